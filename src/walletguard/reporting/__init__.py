"""Reports for people: the risk report (HTML and PDF, with charts) of an evaluation."""
