"""What a text of the public API may hold, as JSON Schema patterns (the services check the
same rules: ``services.contacts.domain.fields.check_text``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

#: No ASCII control character (U+0000-U+001F, U+007F): names, emails, tag names, search.
ONE_LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
#: A one-line text that is not only whitespace (what strip() would empty): tag names.
NOT_BLANK_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
#: Multi-line texts (descriptions): tab, line feed and carriage return allowed.
MULTI_LINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

NotBlank = Annotated[str, StringConstraints(pattern=NOT_BLANK_PATTERN)]
OneLine = Annotated[str, StringConstraints(pattern=ONE_LINE_PATTERN)]
MultiLine = Annotated[str, StringConstraints(pattern=MULTI_LINE_PATTERN)]
