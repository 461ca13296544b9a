"""Pictures and pages made from results: comparison grids, the HTML report, comparison tables."""
