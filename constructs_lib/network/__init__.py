"""Network: the isolated VPC (or an existing one), the interface and gateway endpoints VPC-only Studio and
the platform's compute need, and the VPC's flow logs. Nothing in it reaches the internet."""
