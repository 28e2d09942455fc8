"""The milestone table: real-looking checkpoints of each courier, Indonesian and English."""

from __future__ import annotations

import pytest

from models.milestones import Milestone as M
from models.milestones import city_of, milestone_of, place_in, receiver_in, status_milestone

# (what the courier wrote, the milestone it reaches; None: it says nothing of where it is)
CHECKPOINTS: list[tuple[str, M | None]] = [
    # JNE
    ("SHIPMENT RECEIVED BY JNE COUNTER OFFICE AT [JAKARTA]", M.PICKED_UP),
    ("PICKED UP BY COURIER [JAKARTA]", M.PICKED_UP),
    ("SHIPMENT PICKED UP BY JNE COURIER [TANGERANG]", M.PICKED_UP),
    ("SHIPMENT RECEIVED BY JNE AGENT [SURABAYA]", M.PICKED_UP),
    ("PROCESSED AT SORTING CENTER [JAKARTA]", M.IN_TRANSIT),
    ("DEPARTED FROM TRANSIT [GATEWAY , JAKARTA]", M.IN_TRANSIT),
    ("SHIPMENT FORWARDED TO DESTINATION [BANDUNG , HUB VETERAN]", M.IN_TRANSIT),
    ("RECEIVED AT SORTING CENTER [SEMARANG]", M.IN_TRANSIT),
    ("RECEIVED AT INBOUND STATION [BANDUNG , HUB CIBIRU]", M.AT_DESTINATION),
    ("WITH DELIVERY COURIER [BANDUNG]", M.OUT_FOR_DELIVERY),
    ("DELIVERED TO [BUDI | 13-03-2021 14:02 | BANDUNG]", M.DELIVERED),
    ("CONSIGNEE NOT AT HOME [BANDUNG]", M.FAILED_ATTEMPT),
    ("BAD ADDRESS / INCOMPLETE ADDRESS [BANDUNG]", M.FAILED_ATTEMPT),
    ("RETURN TO SHIPPER [BANDUNG]", M.RETURNING),
    ("RETURNED TO SHIPPER [JAKARTA]", M.RETURNED),
    # J&T
    ("Paket telah di pick up oleh [SPRINTER PICKUP - ANDI]", M.PICKED_UP),
    ("Paket telah diterima di [Drop Point JKT_KEMAYORAN]", M.PICKED_UP),
    ("Paket akan dikirimkan ke [BDG_GATEWAY]", M.IN_TRANSIT),
    ("Paket telah sampai di [BDG_GATEWAY]", M.IN_TRANSIT),
    ("Paket akan dikirim ke alamat penerima", M.OUT_FOR_DELIVERY),
    ("Paket akan dikirimkan ke alamat penerima", M.OUT_FOR_DELIVERY),
    ("Paket sedang diantar ke alamat penerima oleh [ASEP]", M.OUT_FOR_DELIVERY),
    ("Paket telah diterima oleh [BUDI]", M.DELIVERED),
    ("Paket telah diterima oleh [BUDI], Hubungan: [Ybs]", M.DELIVERED),
    ("Paket bermasalah: Penerima tidak ada di tempat", M.FAILED_ATTEMPT),
    ("Paket akan dikembalikan ke pengirim", M.RETURNING),
    ("Paket telah dikembalikan ke pengirim dan diterima oleh [ANDI]", M.RETURNED),
    ("Parcel has been picked up by [courier]", M.PICKED_UP),
    ("Parcel is being sent to [BDG_GATEWAY]", M.IN_TRANSIT),
    ("Parcel has arrived at [SEMARANG]", M.IN_TRANSIT),
    ("Parcel is out for delivery", M.OUT_FOR_DELIVERY),
    ("Parcel has been delivered, received by [BUDI]", M.DELIVERED),
    # SiCepat
    ("Terima permintaan pick up dari [Toko Batik Kabar]", None),
    ("Paket telah di pick up oleh [SIGESIT - ANDI]", M.PICKED_UP),
    ("Paket keluar dari [Jakarta Pusat]", M.IN_TRANSIT),
    ("Paket telah diterima di [SiCepat Semarang Gateway]", M.IN_TRANSIT),
    ("Paket dibawa [SIGESIT - ASEP]", M.OUT_FOR_DELIVERY),
    ("PAKET DITERIMA OLEH [BUDI - (YBS) YANG BERSANGKUTAN]", M.DELIVERED),
    ("ANTAR ULANG: PENERIMA TIDAK DI TEMPAT", M.FAILED_ATTEMPT),
    ("Paket sedang dalam proses retur", M.RETURNING),
    ("RETURN PROCESS", M.RETURNING),
    ("PAKET DIKEMBALIKAN KE PENGIRIM [JAKARTA]", M.RETURNING),
    ("Paket retur telah diterima oleh pengirim", M.RETURNED),
    ("Paket sudah sampai di kota tujuan [BANDUNG]", M.AT_DESTINATION),
    # AnterAja
    ("Paket sudah diambil oleh kurir AnterAja", M.PICKED_UP),
    ("Paket sedang dalam perjalanan ke [Hub Cikarang]", M.IN_TRANSIT),
    ("Paket sudah sampai di hub tujuan [Bandung]", M.AT_DESTINATION),
    ("Paket sedang diantar ke alamat tujuan oleh kurir", M.OUT_FOR_DELIVERY),
    ("Paket sudah diterima oleh [SITI]", M.DELIVERED),
    ("Pengiriman gagal: alamat tidak ditemukan", M.FAILED_ATTEMPT),
    # POS Indonesia
    ("Posting Loket [KANTOR POS JAKARTA PUSAT 10000]", M.PICKED_UP),
    ("Dikirim ke [SPP BANDUNG]", M.IN_TRANSIT),
    ("Proses antar [BANDUNG 40000]", M.OUT_FOR_DELIVERY),
    ("Selesai antar: Diterima oleh BUDI", M.DELIVERED),
    ("Gagal antar: rumah kosong", M.FAILED_ATTEMPT),
    # Ninja Xpress
    ("Successfully picked up from sender", M.PICKED_UP),
    ("Parcel is being processed at Ninja Xpress warehouse [Jakarta]", M.IN_TRANSIT),
    ("On Vehicle for Delivery", M.OUT_FOR_DELIVERY),
    ("Successfully delivered. Received by BUDI", M.DELIVERED),
    ("Delivery attempt failed: Customer unavailable", M.FAILED_ATTEMPT),
    ("Returned to sender", M.RETURNED),
    ("Return to sender triggered", M.RETURNING),
    # ID Express
    ("Paket telah diterima oleh Kurir IDexpress [JAKARTA]", M.PICKED_UP),
    ("Paket sedang dikirim ke [Bandung DC]", M.IN_TRANSIT),
    ("Paket sedang dalam pengantaran", M.OUT_FOR_DELIVERY),
    # Lion Parcel
    ("STT dibuat", None),
    ("Paket berangkat dari [CGK]", M.IN_TRANSIT),
    ("Paket tiba di [BDO]", M.IN_TRANSIT),
    # English, any courier
    ("Arrived at destination facility", M.AT_DESTINATION),
    ("Undelivered - recipient not available", M.FAILED_ATTEMPT),
]


def test_the_table_holds_every_courier_and_every_milestone() -> None:
    assert len(CHECKPOINTS) >= 40
    assert len({text for text, _ in CHECKPOINTS}) == len(CHECKPOINTS)
    reached = {milestone for _, milestone in CHECKPOINTS}
    assert reached == (set(M) - {M.NOT_FOUND}) | {None}


@pytest.mark.parametrize(("text", "milestone"), CHECKPOINTS, ids=[t for t, _ in CHECKPOINTS])
def test_a_checkpoint_reads_as_its_milestone(text: str, milestone: M | None) -> None:
    assert milestone_of(text) is milestone
    assert milestone_of(text.upper()) is milestone  # some couriers write in capitals
    assert milestone_of(f"  {text.lower()}  ") is milestone


@pytest.mark.parametrize(
    ("text", "destination", "milestone"),
    [
        ("Paket telah sampai di [BANDUNG]", "KOTA BANDUNG", M.AT_DESTINATION),
        ("Paket telah sampai di [BANDUNG]", "SURABAYA", M.IN_TRANSIT),
        ("Paket telah diterima di [SiCepat Bandung]", "Bandung, Jawa Barat", M.AT_DESTINATION),
        ("RECEIVED AT WAREHOUSE [BANDUNG]", "BANDUNG", M.AT_DESTINATION),
        ("Parcel has arrived at [Bandung Hub]", "Bandung", M.AT_DESTINATION),
        ("DEPARTED FROM TRANSIT [GATEWAY , BANDUNG]", "BANDUNG", M.IN_TRANSIT),  # leaving it
        ("SHIPMENT FORWARDED TO DESTINATION [BANDUNG]", "BANDUNG", M.IN_TRANSIT),
    ],
)
def test_an_arrival_in_the_destination_city_is_reaching_it(
    text: str, destination: str, milestone: M
) -> None:
    assert milestone_of(text, destination) is milestone


@pytest.mark.parametrize(
    ("text", "receiver"),
    [
        ("DELIVERED TO [BUDI | 13-03-2026 14:02 | BANDUNG]", "BUDI"),
        ("Paket telah diterima oleh [BUDI]", "BUDI"),
        ("Paket telah diterima oleh [BUDI], Hubungan: [Ybs]", "BUDI"),
        ("PAKET DITERIMA OLEH [BUDI - (YBS) YANG BERSANGKUTAN]", "BUDI"),
        ("Selesai antar: Diterima oleh Siti Aminah", "Siti Aminah"),
        ("Successfully delivered. Received by BUDI", "BUDI"),
        ("Parcel has been delivered, received by [Pak RT]", "Pak RT"),
        ("Paket telah diterima oleh [YBS]", None),  # "the addressee": the waybill names them
        ("Paket sudah diterima", None),
        ("Paket telah diterima oleh Kurir IDexpress [JAKARTA]", None),
    ],
)
def test_the_receiver_is_read_from_a_delivered_checkpoint(text: str, receiver: str | None) -> None:
    assert receiver_in(text) == receiver


def test_places_read_as_a_person_writes_them() -> None:
    assert place_in("RECEIVED AT INBOUND STATION [BANDUNG , HUB CIBIRU]") == "Bandung"
    assert place_in("Paket akan dikirimkan ke [BDG_GATEWAY]") == "Bdg Gateway"
    assert place_in("Paket telah diterima di [SiCepat Bandung]") == "SiCepat Bandung"
    assert place_in("On Vehicle for Delivery") == ""
    assert city_of("KOTA BANDUNG, JAWA BARAT") == "Bandung"
    assert city_of("KAB. BANDUNG BARAT") == "Bandung Barat"
    assert city_of("") == ""


@pytest.mark.parametrize(
    ("status", "milestone"),
    [
        ("DELIVERED", M.DELIVERED),
        ("delivered", M.DELIVERED),
        ("RETURNED", M.RETURNED),
        ("RETURN", M.RETURNING),
        ("ON PROCESS", M.IN_TRANSIT),
        ("ON DELIVERY", M.OUT_FOR_DELIVERY),
        ("PICKUP", M.PICKED_UP),
        ("", None),
        ("CANCELED", None),
    ],
)
def test_a_providers_status_maps_to_a_milestone(status: str, milestone: M | None) -> None:
    assert status_milestone(status) is milestone
