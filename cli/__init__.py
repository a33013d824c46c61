"""The ``backfire`` command line; each verb is its own module and imports heavy code only when it runs."""
