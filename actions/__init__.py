"""Custom actions run by the Rasa SDK action server (`rasa run actions`)."""
