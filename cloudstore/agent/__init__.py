"""The on-premises clock connector: receives ZKTeco punches, spools them on disk and uploads them to the cloud."""
