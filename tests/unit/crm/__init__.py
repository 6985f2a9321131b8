"""Unit tests of the CRM feed (crm/)."""
