"""BPMN processes of the data exchange (deployed on demand by grant_process)."""
