"""The CRM feed end to end: real cases and customers, a fake CRM on 127.0.0.1."""
