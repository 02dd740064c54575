"""Field hardware behind small typed interfaces, each with a real driver and a simulator.

* :mod:`hardware_adapters.gnss` — NMEA 0183 receivers -> :class:`~hardware_adapters.gnss.Fix`
* :mod:`hardware_adapters.meters` — CJ/T 188 water meters ->
  :class:`~hardware_adapters.meters.MeterReading`
* :mod:`hardware_adapters.printer` — sealed notices -> ESC/POS print jobs

Each device is chosen by a URL-like setting (``serial://``, ``tcp://``, ``file://``,
``sim://``); every failure is a :class:`~hardware_adapters.errors.HardwareError`.
See docs/hardware.md.
"""
