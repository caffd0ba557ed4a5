"""Supervisors' pages: the decision trail of a consignment, the audit search, the dashboard and the
reassignment of tasks."""
