"""One schema per facts file of ``zoo/data``: ``<name>.py`` registers the schema of ``<name>.yaml``.

Each module is imported by ``zoo.facts.has_schema`` when its file is first loaded, never all at once.
"""
