// Placeholder: tests arrive with the drift statistics (issue 5).
