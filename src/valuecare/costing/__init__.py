"""Costs of care cycles by time-driven activity-based costing (TDABC).

Kaplan & Porter ("How to Solve the Cost Crisis in Health Care", HBR 2011): cost every
patient's cycle of care from the resources it used - capacity cost rate x minutes, plus
consumables - instead of charges or allocated averages.  The pieces:

- :mod:`~valuecare.costing.catalog` - resources, cost of capacity, practical capacity and the
  capacity cost rate (exact decimals);
- :mod:`~valuecare.costing.process_maps` - steps of each condition's cycle, time equations,
  consumables, mapping from claim lines;
- :mod:`~valuecare.costing.inputs` - the organization's costing folder;
- :mod:`~valuecare.costing.engine` - the Ibis pipeline (DuckDB and Spark);
- :mod:`~valuecare.costing.capacity` and :mod:`~valuecare.costing.opportunities`;
- :mod:`~valuecare.costing.stage` - the ``cycle_costs`` pipeline stage.

See ``docs/costing.md``.
"""
