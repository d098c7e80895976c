"""The sandbox's memory: accepted messages, their reports, the fault config. Thread-safe."""

import copy
import random
import threading
from collections import deque

from .faults import parse_faults
from .messages import STATUS_RANK, report_sequence, update_totals
from .reports import ReportJob, ReportWorker


class Sandbox:
    def __init__(self, access_key, signing_key, report_delay, report_backoff, faults):
        self.access_key = access_key
        self.default_report_delay = report_delay
        self.faults = parse_faults(faults, report_delay)
        self._lock = threading.Lock()
        self._messages = {}  # id -> record, in order of acceptance
        self.reports = ReportWorker(signing_key, report_backoff, self._on_attempt)

    def set_faults(self, data):
        """Replace the whole fault config. :raise ValueError: for an invalid config."""
        faults = parse_faults(data, self.default_report_delay)
        with self._lock:
            self.faults = faults

    def forced_status(self):
        """The status the next POST /messages must answer instead of the normal one, if any."""
        with self._lock:
            if self.faults["status_sequence"]:
                return self.faults["status_sequence"].pop(0)
            if random.random() < self.faults["error_rate"]:
                return 500
        return None

    def accept(self, message, report_url, environ, faults):
        """Store an accepted message and queue its status reports."""
        record = {
            "message": message,
            "reportUrl": report_url,
            "remote_addr": environ.get("REMOTE_ADDR"),
            "remote_port": environ.get("REMOTE_PORT"),
            "report_attempts": 0,
            "reports": [],
        }
        with self._lock:
            self._messages[message["id"]] = record
        if not (report_url and message["reference"]):
            return
        delay = faults["report_delay"]
        for item in message["recipients"]["items"]:
            recipient = str(item["recipient"])
            sequence = report_sequence(message, recipient, faults["outcomes"].get(recipient), delay)
            if faults["reverse_reports"]:
                sequence.reverse()
            if faults["duplicate_reports"]:
                sequence = [report for report in sequence for _ in (1, 2)]
            job = ReportJob(message["id"], report_url, deque(sequence), gap=delay)
            self.reports.schedule(job, delay)

    def message(self, message_id):
        with self._lock:
            record = self._messages.get(message_id)
            return copy.deepcopy(record["message"]) if record else None

    def all_messages(self):
        """Every accepted message, oldest first."""
        with self._lock:
            return copy.deepcopy([record["message"] for record in self._messages.values()])

    def delete(self, message_id):
        with self._lock:
            return self._messages.pop(message_id, None) is not None

    def snapshot(self):
        with self._lock:
            return copy.deepcopy(list(self._messages.values()))

    def clear(self):
        with self._lock:
            self._messages.clear()

    def close(self):
        self.reports.close()

    def _on_attempt(self, job, params, url, status, error):
        with self._lock:
            record = self._messages.get(job.message_id)
            if record is None:  # deleted meanwhile; the report still goes out
                return
            record["report_attempts"] += 1
            if not job.entry:
                job.entry.update(status=params["status"], recipient=params["recipient"],
                                 statusDatetime=params["statusDatetime"], attempts=0)
                record["reports"].append(job.entry)
                self._advance_status(record["message"], params)
            job.entry.update(
                url=url, attempts=job.entry["attempts"] + 1, response_status=status, error=error,
                delivered=status is not None and 200 <= status < 300,
            )

    @staticmethod
    def _advance_status(message, params):
        for item in message["recipients"]["items"]:
            if str(item["recipient"]) == params["recipient"] and (
                STATUS_RANK[params["status"]] > STATUS_RANK[item["status"]]
            ):
                item.update(status=params["status"], statusDatetime=params["statusDatetime"])
        update_totals(message)
