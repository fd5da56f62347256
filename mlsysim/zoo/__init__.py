"""The facts zoo: data files with a source per entry, and the registries over them."""
