"""The staff console: a small read-only web page over the last conversations and the latest experiment."""
