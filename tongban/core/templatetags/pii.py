"""``{% load pii %}``: masking filters for pages that show personal data to staff (docs/privacy.md).

``{{ app.applicant_id_number|mask_id }}``, ``{{ user.phone|mask_phone }}``, ``{{ name|mask_name }}``,
``{{ address|mask_address }}``, and ``{{ text|mask_text }}`` (every ID and mobile number in free text).
"""

from __future__ import annotations

from django import template

from tongban.core import masking

register = template.Library()

register.filter("mask_id", masking.mask_id)
register.filter("mask_phone", masking.mask_phone)
register.filter("mask_name", masking.mask_name)
register.filter("mask_address", masking.mask_address)
register.filter("mask_text", masking.mask_text)
