"""``mlsysim ui``: a local web page to explore a model on a device (``server`` serves it, ``figures`` answers)."""
