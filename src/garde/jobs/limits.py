"""The job queue's limits, readable without importing the queue (``garde jobs list --help``)."""

MAX_LIST = 500
