"""容错纠错: accountability leads (问责线索) raised from the platform's own records, fault-tolerance applications
(容错申请) and their determination (免责 / 从轻 / 不予容错) against documented criteria (docs/insight.md)."""
