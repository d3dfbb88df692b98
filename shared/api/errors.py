"""The one error shape of every answer of the public API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """Every error answer: ``{"code": <HTTP status>, "message": "..."}``."""

    code: int = Field(examples=[422])
    message: str = Field(examples=['phone: "+33 12" is not a valid phone number'])
