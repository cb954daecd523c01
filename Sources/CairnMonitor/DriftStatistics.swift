// Placeholder: drift statistics are being written (issue 5).
