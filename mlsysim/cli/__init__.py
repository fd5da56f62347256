"""The ``mlsysim`` command line."""
