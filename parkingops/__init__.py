"""The ParkingOps Django project."""

# The environ key under which parkingops.wsgi keeps a Content-Type Django could not parse.
RAW_CONTENT_TYPE = "parkingops.raw_content_type"
