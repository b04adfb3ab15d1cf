"""Unit assessment (考核) entrypoints, mixed into the accountability service."""


class AssessmentEntrypoints:
    pass
