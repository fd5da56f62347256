"""Design-space searches: the batch size, the region, the parallel layout."""
