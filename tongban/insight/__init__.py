"""insight (评估与洞察): the evaluation indicator system, dashboards, process mining of the platform's own
event log, accountability and fault tolerance (容错纠错), and proactive policy matching (免申即享).

It reads every other context (through their selectors, or read-only SQL for the analytical queries) and
writes only its own tables, or through other contexts' services."""
