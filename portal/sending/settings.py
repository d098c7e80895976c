"""The sending knobs (SEND_BATCH_SIZE, ...), parsed and checked in `portal.config`."""
from flask import current_app


def setting(name: str):
    """One sending knob from the app's configuration."""
    return current_app.config[name]
