"""The forms of the staff actions: each knows the object it acts on (for choices that depend on
it) and which of its fields a service error names. Choices come from the vocabulary and the
selectors; the rules themselves are the services'."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django import forms
from django.db.models import Model
from django.http import QueryDict

from ..core.units import ANALYTE_NAMES, QUALITATIVE, accepted_units
from ..core.vocab import (
    CLINICIAN_DECISIONS,
    STAFF_PAUSE_REASONS,
    CheckKind,
    ChildPugh,
    CourseCondition,
    InfectionKind,
    InfectionOutcome,
    Interacting,
    Interpretation,
    MissingReason,
    RenalMeasure,
    StopReason,
)
from ..models import (
    CREATININE_UNITS,
    Drug,
    Finding,
    InfectionReport,
    MonitoringCheck,
    Patient,
    TherapyCourse,
)
from ..rulebook import drug_rules
from ..selectors.starts import drugs_startable, labelled_doses
from ..services.results import ResultInput

_S = TypeVar("_S", bound=Model)


class ActionForm(forms.Form, Generic[_S]):
    """Every action form knows the object it acts on (for choices that depend on it)."""

    def __init__(self, *args: Any, subject: _S, **kwargs: Any) -> None:
        self.subject = subject
        super().__init__(*args, **kwargs)

    def field_for(self, key: str) -> str | None:
        """The form field a service error names (None: an error for the whole form)."""
        return key if key in self.fields else None


def _date(**kwargs: Any) -> forms.DateField:
    """A date picker; its value is ISO 8601 whatever the browser's language."""
    return forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs
    )


def _textarea(label: str = "Note") -> forms.CharField:
    return forms.CharField(
        label=label, required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


def _choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """A choice field of the form (its choices set per subject); `fields` is typed as Field."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


class ConfirmForm(ActionForm[Model]):
    pass


class StaffInfectionForm(ActionForm[TherapyCourse]):
    kind = forms.ChoiceField(choices=InfectionKind.choices(), label="Kind of infection")
    onset_on = _date(label="Began on", help_text="The day the symptoms began")
    serious = forms.BooleanField(
        required=False, help_text="Serious: needing hospital care or intravenous antibiotics"
    )
    description = _textarea("Description")


_V = TypeVar("_V", Finding, TherapyCourse)


class VersionedForm(ActionForm[_V]):
    """An action on a row with a version: the page carries the version it showed, and the
    service refuses the action if someone changed the row since (another tab, another nurse)."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.subject.version


class DecideFindingForm(VersionedForm[Finding]):
    decision = forms.ChoiceField(
        choices=[(d.value, d.label) for d in CLINICIAN_DECISIONS],
        widget=forms.RadioSelect,
        help_text="A repeat test is due today, within the protocol's repeat period; the patient "
        "is reminded.",
    )
    note = _textarea("Reason (required to continue unchanged)")


class ResolveInfectionForm(ActionForm[InfectionReport]):
    outcome = forms.ChoiceField(choices=InfectionOutcome.choices())
    note = _textarea("Note")


class PauseForm(VersionedForm[TherapyCourse]):
    reason = forms.ChoiceField(
        choices=[(r.value, r.label) for r in STAFF_PAUSE_REASONS],
        help_text="For an infection, use “Report an infection”: it alerts staff and the patient.",
    )
    paused_on = _date(help_text="Off the drug from this day")
    note = _textarea()


class ResumeForm(VersionedForm[TherapyCourse]):
    resumed_on = _date(help_text="Back on the drug from this day")


class StopForm(VersionedForm[TherapyCourse]):
    stop_reason = forms.ChoiceField(choices=StopReason.choices(), label="Reason")
    stopped_on = _date()
    note = _textarea()


class DoseStableForm(VersionedForm[TherapyCourse]):
    stable_on = _date(label="Dose stable from", help_text="Ends the until-stable blood counts")


class DoseForm(VersionedForm[TherapyCourse]):
    dose_code = forms.ChoiceField(label="New dose")
    effective_on = _date()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        course = self.subject
        doses = labelled_doses(
            rules=drug_rules(drug=course.drug),
            jurisdiction=course.patient.clinic.jurisdiction,
            indication=course.indication,
        )
        _choice_field(self, "dose_code").choices = [
            (d.code, d.label) for d in doses if d.code != course.dose_code
        ]


NONE_OF_THESE = "none"


def _reviewed(ticked: list[str]) -> list[str] | None:
    """Checkboxes as the service takes them: None if nothing was ticked (not reviewed), [] for
    "none of these"."""
    if not ticked:
        return None
    return [code for code in ticked if code != NONE_OF_THESE]


class StartCourseForm(ActionForm[Patient]):
    """The drug's own doses and indications; the service checks that they go together."""

    drug = forms.ModelChoiceField(queryset=Drug.objects.none())
    dose = forms.ChoiceField(help_text="Doses are grouped by drug")
    indication = forms.ChoiceField()
    start_date = _date(help_text="First dose (a later date plans the course ahead)")
    renal_value = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=6,
        decimal_places=1,
        help_text="Optional: for the label's renal dose advice",
    )
    renal_measure = forms.ChoiceField(required=False, choices=[("", "—"), *RenalMeasure.choices()])
    creatinine = forms.DecimalField(
        label="Serum creatinine",
        required=False,
        min_value=0,
        max_digits=6,
        decimal_places=2,
        help_text="Optional: with the patient's weight, estimates creatinine clearance "
        "(Cockcroft-Gault) where the label's renal advice uses it",
    )
    creatinine_unit = forms.ChoiceField(required=False, choices=[("", "—"), *CREATININE_UNITS])
    child_pugh = forms.ChoiceField(
        label="Hepatic impairment",
        required=False,
        choices=[("", "Not assessed"), *ChildPugh.choices()],
    )
    interacting = forms.MultipleChoiceField(
        label="Interacting medicines",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(NONE_OF_THESE, "Reviewed: none of these"), *Interacting.choices()],
        help_text="Leave all unticked if the medicines have not been reviewed.",
    )
    conditions = forms.MultipleChoiceField(
        label="Renal and genotype conditions",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(NONE_OF_THESE, "Reviewed: none of these"), *CourseCondition.choices()],
        help_text="Leave all unticked if not reviewed.",
    )
    acknowledge_do_not_start = forms.BooleanField(
        required=False,
        label="Prescriber has reviewed",
        help_text="Needed only when a recent result reaches one of the drug's do-not-start "
        "thresholds (shown in the preview).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in CheckKind:  # a patient already on the drug: what was done, and when
            self.fields[f"last_done_{kind.value}"] = _date(
                required=False,
                label=f"Last done: {kind.label}",
                help_text="Only for a patient already on the drug: the last time this was done "
                "(blank: not known). Checks missed since are caught up.",
            )
        startable = drugs_startable(clinic=self.subject.clinic)
        drug_field = self.fields["drug"]
        assert isinstance(drug_field, forms.ModelChoiceField)
        drug_field.queryset = Drug.objects.filter(pk__in=[s.drug.pk for s in startable])
        doses: list[tuple[str, list[tuple[str, str]]]] = []  # (drug, its doses): option groups
        indications: dict[str, str] = {}
        for s in startable:
            doses.append((s.drug.name, [(f"{s.drug.code}:{d.code}", d.label) for d in s.doses]))
            indications.update({i.code: i.name for i in s.indications})
        _choice_field(self, "dose").choices = [("", "—"), *doses]
        _choice_field(self, "indication").choices = [
            ("", "—"),
            *sorted(indications.items(), key=lambda i: i[1]),
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()  # Form.clean gives cleaned_data back (typed there as possibly None)
        data = self.cleaned_data
        for name in ("interacting", "conditions"):
            ticked = data.get(name) or []
            if NONE_OF_THESE in ticked and len(ticked) > 1:
                self.add_error(name, '"None of these" cannot go with another choice.')
        drug, dose = data.get("drug"), data.get("dose", "")
        if drug and dose:
            drug_code, _, data["dose_code"] = dose.partition(":")
            if drug_code != drug.code:
                self.add_error("dose", f"That dose is not a {drug.name} dose.")
        return data

    def field_for(self, key: str) -> str | None:
        if key.startswith("done_elsewhere["):
            return f"last_done_{key.removeprefix('done_elsewhere[').rstrip(']')}"
        return "dose" if key == "dose_code" else super().field_for(key)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "patient": self.subject,
            "drug": data["drug"],
            "dose_code": data["dose_code"],
            "indication": data["indication"],
            "start_date": data["start_date"],
            "renal_value": data["renal_value"],
            "renal_measure": data["renal_measure"],
            "creatinine": data["creatinine"],
            "creatinine_unit": data["creatinine_unit"],
            "child_pugh": data["child_pugh"],
            "interacting": _reviewed(data["interacting"]),
            "conditions": _reviewed(data["conditions"]),
            "done_elsewhere": {
                kind.value: data[f"last_done_{kind.value}"]
                for kind in CheckKind
                if data.get(f"last_done_{kind.value}")
            },
        }


class SampleTakenForm(ActionForm[MonitoringCheck]):
    sampled_on = _date(label="Sample taken on")


class CompleteCheckForm(ActionForm[MonitoringCheck]):
    """The date the check was done and, for each analyte it measures, a value and unit (a
    screening test: its reading, with a number if the lab gives one) or the reason there is
    none."""

    completed_on = _date(label="Done on", help_text="The day the sample was taken")
    confirm_outside_window = forms.BooleanField(
        required=False,
        label="The date is right although it is outside the check's window",
        help_text="The check is then kept as done outside its window.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.subject.sampled_on:
            self.initial["completed_on"] = self.subject.sampled_on
        for analyte in self.subject.analytes:
            units = accepted_units(analyte)
            name = ANALYTE_NAMES[analyte]
            screening = analyte in QUALITATIVE
            if screening:
                self.fields[f"reading_{analyte}"] = forms.ChoiceField(
                    label=f"{name}: reading",
                    required=False,
                    choices=[("", "—"), *Interpretation.choices()],
                )
            self.fields[f"value_{analyte}"] = forms.CharField(
                label=f"{name}: number, if the lab gives one" if screening else name,
                required=False,
                max_length=30,
            )
            self.fields[f"unit_{analyte}"] = forms.CharField(
                label=f"{name}: unit",
                required=False,
                max_length=20,
                initial=units[0] if len(units) == 1 else "",
                help_text=f"One of: {', '.join(units)}" if units else "As the lab reports it",
            )
            self.fields[f"reason_{analyte}"] = forms.ChoiceField(
                label=f"{name}: no value because",
                required=False,
                choices=[("", "—"), *MissingReason.choices()],
            )

    def clean(self) -> dict[str, Any]:
        super().clean()  # Form.clean gives cleaned_data back (typed there as possibly None)
        data = self.cleaned_data
        for analyte in self.subject.analytes:
            if data.get(f"value_{analyte}") and not data.get(f"unit_{analyte}"):
                self.add_error(f"unit_{analyte}", "Give the unit of this result.")
        return data

    def results(self) -> list[ResultInput]:
        data = self.cleaned_data
        return [
            ResultInput(a, data[f"value_{a}"], data[f"unit_{a}"], data.get(f"reading_{a}", ""))
            for a in self.subject.analytes
            if data.get(f"value_{a}") or data.get(f"reading_{a}")
        ]

    def missing(self) -> dict[str, str]:
        data = self.cleaned_data
        return {a: data[f"reason_{a}"] for a in self.subject.analytes if data.get(f"reason_{a}")}

    def field_for(self, key: str) -> str | None:
        """The form field of a service error key such as `results[1].unit` or `missing[hb]`."""
        if key.startswith("missing["):
            return f"reason_{key[len('missing[') : -1]}"
        if key.startswith("results[") and "]." in key:
            index, name = key[len("results[") :].split("].", 1)
            analyte = self.results()[int(index)].analyte
            prefix = {"value": "value", "interpretation": "reading"}.get(name, "unit")
            return f"{prefix}_{analyte}"
        return super().field_for(key)


if TYPE_CHECKING:  # the stubs' ModelForm takes its model; Django's takes no type argument
    _PatientFormBase = forms.ModelForm[Patient]
else:
    _PatientFormBase = forms.ModelForm


class PatientForm(_PatientFormBase):
    """The patient change form, refusing a save made from an older copy (another tab, another
    staff member): the page shows what is stored now, and saving again is a deliberate choice."""

    # Not named `version`: the admin would look for an editable model field of that name.
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Patient
        fields = "__all__"  # the admin's fieldsets choose which are shown

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_version"].initial = self.instance.version

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        seen, stored = data.get("seen_version"), self.instance.version
        if self.instance.pk and seen is not None and seen != stored:
            now = "; ".join(
                f"{self.fields[name].label}: {self.initial.get(name) or '(empty)'}"
                for name in self.changed_data
                if name != "seen_version"
            )
            self.add_error(
                None,
                "Someone else changed this patient after you opened the page (version "
                f"{seen}, now {stored}). Stored now: {now or 'the same values as yours'}. Check "
                "them, then save again to keep your values.",
            )
            fresh = QueryDict(mutable=True)  # saving again is then a deliberate overwrite
            fresh.update(self.data)
            fresh["seen_version"] = str(stored)
            self.data = fresh
        return data
