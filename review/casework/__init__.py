"""Casework: each report read, triaged and answered; conflicts of interest declared."""
