"""Loading the seed files (drug rules and clinic protocols) as new stored versions; the rules in
force are read back through `clinics.rulebook`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from ..core.ruleset import LoadedFile, load_library
from ..core.vocab import OPEN_COURSES, RuleSetKind
from ..models import Drug, Protocol, RuleSetVersion, TherapyCourse
from .replanning import course_replan


@dataclass
class LoadReport:
    new_versions: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    courses_replanned: int = 0


def rules_load(*, seed_dir: Path | None = None, as_of: date | None = None) -> LoadReport:
    """Validate every seed file, then store what changed as new versions, in one transaction.

    Idempotent: a file whose checksum is already stored adds nothing. When a drug's rules or a
    protocol change, the open checks of that drug's (or that protocol's clinics') active and
    paused courses are re-planned; done checks are never touched.
    Raises `RuleFileError` (naming file, rule and field) before any write if a file is bad.
    """
    library = load_library(Path(seed_dir or settings.JAKMONITOR["SEED_DIR"]))
    report = LoadReport()
    with transaction.atomic():
        changed_protocols = []
        for code, loaded in library.protocols.items():
            version, created = _store_version(RuleSetKind.PROTOCOL, code, loaded)
            name = loaded.rules.protocol.name
            protocol, _ = Protocol.objects.update_or_create(
                code=code, defaults={"name": name, "current_version": version}
            )
            (report.new_versions if created else report.unchanged).append(
                f"protocol {code} v{version.version}"
            )
            if created:
                changed_protocols.append(protocol)
        changed_drugs = []
        for code, drug_file in library.drugs.items():
            version, created = _store_version(RuleSetKind.DRUG, code, drug_file)
            info = drug_file.rules.drug
            drug, _ = Drug.objects.update_or_create(
                code=code,
                defaults={
                    "name": info.name,
                    "brands": info.brands,
                    "jurisdictions": info.jurisdictions,
                    "current_version": version,
                },
            )
            (report.new_versions if created else report.unchanged).append(
                f"drug {code} v{version.version}"
            )
            if created:
                changed_drugs.append(drug)
        affected = TherapyCourse.objects.filter(status__in=OPEN_COURSES).filter(
            _changed_filter(changed_drugs, changed_protocols)
        )
        for course in affected.iterator():
            course_replan(course=course, as_of=as_of)
            report.courses_replanned += 1
    return report


def _changed_filter(drugs: list[Drug], protocols: list[Protocol]) -> Q:
    q = Q(pk__in=[])
    if drugs:
        q |= Q(drug__in=drugs)
    if protocols:
        q |= Q(patient__clinic__protocol__in=protocols)
    return q


def _store_version(kind: str, code: str, loaded: LoadedFile) -> tuple[RuleSetVersion, bool]:
    latest = RuleSetVersion.objects.filter(kind=kind, code=code).order_by("-version").first()
    if latest is not None and latest.checksum == loaded.checksum:
        return latest, False
    version = RuleSetVersion.objects.create(
        kind=kind,
        code=code,
        version=(latest.version + 1) if latest else 1,
        checksum=loaded.checksum,
        source_path=_relative(loaded.path),
        document=loaded.document,
    )
    return version, True


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(settings.BASE_DIR)))
    except ValueError:
        return path
