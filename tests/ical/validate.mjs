// Parse calendar feeds with Mozilla's ical.js (the parser of Thunderbird), independently of the
// Python side. Usage: node validate.mjs FILE...  Prints one JSON summary per file on stdout;
// exits 1 with the file and the reason on the first feed that ical.js rejects or that lacks
// what RFC 5545 requires of a published VEVENT (UID, DTSTAMP, DTSTART).
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function summarise(path) {
  const text = readFileSync(path, "utf8");
  const calendar = new ICAL.Component(ICAL.parse(text));
  if (calendar.name !== "vcalendar") throw new Error(`top component is ${calendar.name}`);
  for (const name of ["prodid", "version"]) {
    if (!calendar.hasProperty(name)) throw new Error(`VCALENDAR has no ${name.toUpperCase()}`);
  }
  const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
    for (const name of ["uid", "dtstamp", "dtstart"]) {
      if (!vevent.hasProperty(name)) throw new Error(`a VEVENT has no ${name.toUpperCase()}`);
    }
    const event = new ICAL.Event(vevent);
    return {
      uid: event.uid,
      start: event.startDate.toString(),
      end: event.endDate.toString(),
      allDay: event.startDate.isDate && event.endDate.isDate,
      summary: event.summary,
      sequence: event.sequence,
      status: vevent.getFirstPropertyValue("status"),
      alarms: vevent.getAllSubcomponents("valarm").length,
    };
  });
  return {
    file: path,
    name: calendar.getFirstPropertyValue("name"),
    refresh: String(calendar.getFirstPropertyValue("refresh-interval")),
    method: calendar.getFirstPropertyValue("method"),
    events,
  };
}

for (const path of process.argv.slice(2)) {
  try {
    console.log(JSON.stringify(summarise(path)));
  } catch (error) {
    console.error(`${path}: ical.js rejected the feed: ${error.message}`);
    process.exit(1);
  }
}
