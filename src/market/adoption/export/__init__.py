"""The reports as files: CSV (UTF-8 with BOM), XLSX (openpyxl), PDF (fpdf2, A4), JSON.

:func:`market.adoption.export.render.render` picks the writer for a report and a format and
says how the bytes should be served (media type, file name, binary or text).
"""
