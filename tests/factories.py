"""Test data, made through the models as the application would store it."""
import itertools
from datetime import date, datetime, timedelta, timezone

from portal.credentials import issue_personal_token, issue_practice_key
from portal.extensions import db
from portal.domain.phones import parse_mobile
from portal.models import Appointment, Licence, Patient, Practice, PracticeGroup, Reminder, User

_numbers = itertools.count(1)


class Factories:
    """`gen_*` helpers; each commits, so the API sees the data at once."""

    def group(self, slug: str | None = None, **fields) -> PracticeGroup:
        slug = slug or f"group-{next(_numbers)}"
        group = PracticeGroup(slug=slug, name=fields.pop("name", f"Gruppe {slug}"), **fields)
        return self._save(group)

    def practice(self, slug: str | None = None, group: PracticeGroup | None = None, **fields) -> Practice:
        slug = slug or f"practice-{next(_numbers)}"
        practice = Practice(
            slug=slug, name=fields.pop("name", f"Praxis {slug}"), group=group or self.group(), **fields
        )
        return self._save(practice)

    def licence(self, practice: Practice, status: str = "active", days: int = 365, **fields) -> Licence:
        today = date.today()
        licence = Licence(
            practice=practice, status=status, valid_from=fields.pop("valid_from", today - timedelta(days=1)),
            valid_until=fields.pop("valid_until", today + timedelta(days=days)), **fields,
        )
        self._save(licence)
        db.session.refresh(practice)
        return licence

    def licensed_practice(self, group: PracticeGroup | None = None, **fields) -> Practice:
        """A practice with an active licence and SMS switched on."""
        practice = self.practice(group=group, **fields)
        self.licence(practice)
        practice.sms_enabled = True
        return self._save(practice)

    def user(self, role: str = "vendor_admin", group: PracticeGroup | None = None, email: str | None = None,
             password: str = "correct horse battery") -> User:
        user = User(email=email or f"user{next(_numbers)}@example.org", role=role, group=group)
        user.set_password(password)
        return self._save(user)

    def token(self, user: User) -> str:
        """A personal API token for `user`: the plain secret."""
        _, secret = issue_personal_token(user)
        db.session.commit()
        return secret

    def practice_key(self, practice: Practice) -> str:
        """An API key of the practice program: the plain secret."""
        _, secret = issue_practice_key(practice, None)
        db.session.commit()
        return secret

    def _save(self, obj):
        db.session.add(obj)
        db.session.commit()
        return obj

    def patient(self, practice: Practice, external_id: str | None = None, mobile: str | None = "0170 1234567",
                sms_consent: bool = True, **fields) -> Patient:
        """A patient as the practice program would sync it (mobile parsed, consent given)."""
        number = parse_mobile(mobile)
        patient = Patient(
            practice=practice, external_id=external_id or f"pat-{next(_numbers)}",
            first_name=fields.pop("first_name", "Erika"), last_name=fields.pop("last_name", "Mustermann"),
            salutation=fields.pop("salutation", "Frau"), mobile_raw=number.raw, mobile_e164=number.e164,
            mobile_problem=number.problem, mobile_problem_detail=number.detail, sms_consent=sms_consent, **fields,
        )
        return self._save(patient)

    def appointment(self, patient: Patient, start, external_id: str | None = None, **fields) -> Appointment:
        """An appointment of `patient` at the aware datetime `start` (no reminder planned yet)."""
        appointment = Appointment(
            practice_id=patient.practice_id, patient=patient, external_id=external_id or f"apt-{next(_numbers)}",
            start_at=start, start_offset_minutes=int(start.utcoffset().total_seconds() // 60), **fields,
        )
        return self._save(appointment)

    def reminder(self, appointment: Appointment, due_at=None, status: str = "planned", **fields):
        """A reminder row for `appointment`'s start, due at `due_at` (default: a second ago)."""
        due_at = due_at or datetime.now(timezone.utc) - timedelta(seconds=1)
        reminder = Reminder(practice_id=appointment.practice_id, appointment_id=appointment.id,
                            start_at=appointment.start_at, due_at=due_at, status=status, **fields)
        return self._save(reminder)
