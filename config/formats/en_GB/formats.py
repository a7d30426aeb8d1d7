"""British formats with the 24-hour clock, as the review queue and clinical records write times ("24 Nov 2026,
14:05", not "2:05 p.m."). Everything not set here comes from Django's own en_GB formats."""

DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
