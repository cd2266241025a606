"""Staff pages: login, two-factor enrolment, logout, and the dashboard."""
