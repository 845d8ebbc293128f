"""Images of VietQR payloads: the QR itself (PNG, SVG), the stall card (PNG, PDF) and the print sheet.

Rendering takes a payload string and plain card values, never database objects, so the web
layer and the CLI share it and it is testable on its own.
"""

from market.payments.render.card import CardData, card_image, card_pdf, card_png
from market.payments.render.qr import QrMatrix, encode_qr, qr_png, qr_svg
from market.payments.render.sheet import write_sheet

__all__ = [
    "CardData",
    "QrMatrix",
    "card_image",
    "card_pdf",
    "card_png",
    "encode_qr",
    "qr_png",
    "qr_svg",
    "write_sheet",
]
