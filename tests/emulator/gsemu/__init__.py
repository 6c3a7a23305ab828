"""guardsync AWS emulator: moto 5.2.5 plus the extensions guardsync needs.

Import order matters: `gsemu.install(default_account)` must run after moto is
imported and before the first request reaches moto's server app, because moto
builds each service's URL map (from `moto.<service>.urls.url_paths`) on the
first request to that service. See server.py.
"""
