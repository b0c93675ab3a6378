"""clicker hub: majority-judgment voting with handheld keypads."""

__version__ = "0.1.0"
