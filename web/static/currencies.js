/* Generated from shared/money.py by `python -m web.currencies`; do not edit. */
"use strict";

var CURRENCY_DIGITS = {"BHD":3,"BIF":0,"CLP":0,"DJF":0,"GNF":0,"IQD":3,"ISK":0,"JOD":3,"JPY":0,"KMF":0,"KRW":0,"KWD":3,"LYD":3,"OMR":3,"PYG":0,"RWF":0,"TND":3,"UGX":0,"VND":0,"VUV":0,"XAF":0,"XOF":0,"XPF":0};

/* Digits of the currency's minor unit (2 for USD, 0 for JPY, 3 for KWD), as shared.money.minor_digits. */
function currencyDigits(code) {
  const digits = CURRENCY_DIGITS[String(code)];
  return digits === undefined ? 2 : digits;
}
