"""What every web form of Kindred's shares (the console's and the public pages'): it reads
only the form's fields (never a JSON body or an upload in their place), and drops NUL
characters, which no name or address has and PostgreSQL cannot store."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, _is_submitted


def no_nul(value: Any) -> Any:
    """A field filter: the text without NUL characters."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class PostedForm(FlaskForm):
    """A form posted from one of our pages."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is _Auto:
                return request.form if _is_submitted() else None
            return formdata
