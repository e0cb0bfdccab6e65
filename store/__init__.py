"""The PostgreSQL domain store: connection (embedded or configured), migrations, demo data."""
