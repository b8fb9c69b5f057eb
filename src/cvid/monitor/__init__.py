"""Continuous monitoring off the log: device records, their commitments and reveals."""
