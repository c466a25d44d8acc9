"""Process mining of the platform's own event log (docs/insight-mining.md): export (XES, OCEL 2.0), discovery,
conformance against the deployed BPMN, and the next reengineering step."""
