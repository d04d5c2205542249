"""Tests of the `gke-heal` composer: scenarios, reports, the local stack. Nothing is faked; the
whole-loop tests start every service for real on loopback."""
