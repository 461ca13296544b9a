"""``dnaf app``: a page in the browser to try a trained model (pose transfer and try-on) through
the :class:`dnaf.applications.api.DNAF` API. ``choices`` gathers what the page offers to pick
from, ``actions`` turns the page's inputs into API calls, ``page`` lays it out and serves it."""
