"""The words kabar reads chat by, Indonesian first, English too: chat spellings mapped to one
canonical word ("udh" -> "sudah"), and the small vocabularies the intent rules in
handlers/intents.py match a message's canonical words against. Data only.
"""

from __future__ import annotations


def wordset(text: str) -> frozenset[str]:
    """The whitespace-separated words of text, as a set."""
    return frozenset(text.split())


# Chat spellings and abbreviations -> canonical word(s).
SPELLING_GROUPS: dict[str, str] = {
    "sudah": "sdh udh udah dah sudh sdah uda udha",
    "belum": "blm blom belom blum lom blon belon",
    "sampai": "sampe nyampe nyampai smpe smpai sampek nyampek nympe",
    "bagaimana": "gmn gimana gmna gmana bgmn gimna bgmana",
    "berapa": "brp brapa",
    "tidak": "ga gak nggak enggak tdk ngga gk engga kagak nda ndak ngak gx tak nggk",
    "pesanan": "pesenan psnan orderan order psn psanan pesnan ordered oderan",
    "stok": "stock setok stoc stk",
    "restok": "restock restocked",
    "ready": "redi redy rdy readi",
    "di mana": "dimana dmn dmana dimna",
    "ke mana": "kemana kmn",
    "kapan": "kpn kpan",
    "kenapa": "knp knapa napa",
    "jangan": "jgn jngn jangn",
    "kirim": "krm kirm",
    "dikirim": "dkirim dikrim dikirm dkrm",
    "lagi": "lg lgi",
    "saja": "aja aj sj",
    "yang": "yg",
    "untuk": "utk untk",
    "dengan": "dgn",
    "masih": "msh masi mash",
    "saya": "sy sya aku aq ak gw gue gua ane",
    "kamu": "km kmu lu lo anda",
    "paket": "pkt",
    "transfer": "tf trf trnsfr transfr ditransfer",
    "tolong": "tlg tolongin",
    "makasih": "makasi mksh mkasih maksih maacih makaci trims trimakasih terimakasih trmksh",
    "thanks": "thx thanx tks tq ty tqs thank thankyou tengkyu",
    "halo": "hallo helo",
    "hai": "hay hy",
    "assalamualaikum": "asalamualaikum assalamualaikom asslamualaikum samlekom",
    "notifikasi": "notif notifications notification",
    "unsubscribe": "unsub",
    "berhenti": "brenti berenti",
    "informasi": "info",
    "please": "pls plz plis pliss",
    "where is": "wheres",
    "what is": "whats",
    "do not": "dont",
    "does not": "doesnt",
    "is not": "isnt",
    "has not": "hasnt",
    "have not": "havent",
    "can not": "cant cannot",
    "i am": "im",
    "i would": "id",
    "you": "u",
    "your": "ur",
}
SPELLING: dict[str, tuple[str, ...]] = {
    variant: tuple(canonical.split())
    for canonical, variants in SPELLING_GROUPS.items()
    for variant in variants.split()
}

FILLER = wordset("""
    dong donk deh sih nih ni tuh ya yah kak ka kk kakak kaka min admin mimin gan agan sis sist
    bro bos boss bang mas mba mbak om bu ibu pak bapak teh kang kok loh lho lah kah pun nya
    dulu saja juga lagi masih ini itu tersebut saya kamu kami kita dia kalian i me my mine you
    your we our us it its this that mau ingin pengen pingin mo mw tanya nanya bertanya
    informasi minta mohon please maaf sorry yang untuk buat dengan sama dan atau di ke dari pada
    and or to for of in on at with the a an is are am was were be been do does did can could
    will would should may just hmm hm eh ah oh wah hehe haha wkwk wkwkwk kalau kalo klo jika if
    kira kirakira
""")
ACK = wordset("ok oke okay okey okee oce oc sip siap baik noted yes yup iya ditunggu")
AWAITED = wordset("kabar kabarnya info infonya balasan balasannya")  # "ditunggu kabarnya"
QUESTION = wordset("apa bagaimana berapa kapan mana kenapa mengapa siapa where when what how why")
GREET = wordset("""
    halo hai hi hello hey hei hola p ping assalamualaikum assalamu alaikum salam ass wr wb wrwb
    selamat good permisi misi punten numpang kabar yo sugeng swastiastu shalom howdy greetings
""")
TIME_OF_DAY = wordset("pagi siang sore malam morning afternoon evening night")
# How people call the shop before they ask: "kak", "min?", "gan", "mau tanya dong".
CALLS = wordset("""
    kak ka kk kakak kaka min admin mimin gan agan sis sist bro bos boss bang mas mba mbak om
    bu ibu pak bapak teh kang tanya nanya bertanya
""")
CALL_PHRASES: tuple[str, ...] = (
    "i have a question", "can i ask", "may i ask", "quick question", "ada pertanyaan",
    "punya pertanyaan", "ada yang mau ditanyakan", "ada yang ingin ditanyakan", "ada orang",
    "anybody there", "anyone there",
)  # fmt: skip
# Marks that say thanks or OK with no word: a thumbs-up, folded hands, a smile, a heart.
THANKS_MARKS = frozenset("👍👌🙏🤝👏❤♥💕😊🙂☺😀😁😄🥰😍✅💯")
OK_MARKS = frozenset("👍👌✅")  # of those, the ones that say OK rather than thanks
THANKS = wordset("makasih thanks nuhun suwun bye goodbye dadah")
THANKS_PHRASES: tuple[str, ...] = ("terima kasih", "sampai jumpa", "see you")
# Praise for what came: said, not asked, it is thanked for ("barangnya bagus, suka banget").
PRAISE = wordset("bagus mantap mantul keren puas suka cakep cantik rapi love great nice awesome")
# Praise words that describe what is wanted: "kaos yang bagus buat kondangan", "cari yang rapi".
WANTING = wordset("buat untuk utk cari carikan rekomendasi rekomen saran recommend suggest")


# A sentence that asks something, even with thanks or praise in it.
ASKING = wordset("belum apakah kah bisa boleh can could is are do does")
HELP = wordset("bantuan bantu help tolong panduan petunjuk guide bingung confused support cara")
HELP_PHRASES: tuple[str, ...] = (
    "how does this work",
    "how does it work",
    "how it works",
    "how to use",
    "how do i use",
    "how to",
    "how do i",
)
MENU = wordset("menu mulai start fitur features feature pilihan options commands perintah lakukan")
MENU_PHRASES: tuple[str, ...] = (
    "bisa apa",
    "apa yang bisa",
    "saja yang bisa",
    "what can you",
    "what do you do",
)
STOP = wordset("stop berhenti unsubscribe optout mute")
STOP_PHRASES: tuple[str, ...] = (
    "jangan kirim", "jangan hubungi", "jangan chat", "jangan spam", "stop kirim", "berhenti kirim",
    "stop sending", "stop messaging", "stop texting", "do not send", "do not message",
    "do not text", "do not contact", "opt out", "no more messages", "berhenti langganan",
    "matikan notifikasi", "stop notifikasi", "berhenti notifikasi", "unsubscribe",
)  # fmt: skip
# Words that make "stop ..." about our messages even when an order is named.
MESSAGE_WORDS = wordset(
    "pesan notifikasi message messages chat spam promo broadcast sms update lagi"
)

ORDER_NOUNS = wordset("""
    pesanan orders paket package packages parcel kiriman pengiriman shipment shipping delivery
    invoice resi awb tracking
""")
# Saying an order is late asks after it ("kok telat sih"); staff saying it ask for the late ones.
LATE = wordset("telat terlambat late delayed overdue")
STATUS = LATE | wordset("""
    status dikirim terkirim dikemas diproses diantar shipped delivered dispatched arrived arrive
    arriving arrives lacak track tracking resi awb posisi estimasi eta kurir courier
""")
STATUS_PHRASES: tuple[str, ...] = (
    "sampai mana", "sudah sampai", "belum sampai", "kapan sampai", "sampai belum",
    "sampai tidak", "sudah datang", "belum datang", "terima barang", "kapan datang",
    "kapan kirim", "sudah kirim",
    "belum kirim", "kirim kapan", "belum diterima", "belum terima", "where is my", "where is it",
    "when will my", "not arrived", "not received",
    # Waiting: "berapa lama lagi?", "kok lama banget", "how much longer?"
    "berapa lama", "masih lama", "lama lagi", "kok lama", "lama banget", "lama sekali",
    "masih nunggu", "masih menunggu", "how long", "how much longer", "still waiting",
    "taking so long",
    # No news yet: "kok belum ada kabar ya", "ada update kak?", "any news?"
    "ada kabar", "ada update", "any update", "any updates", "any news",
)  # fmt: skip
LIST = wordset("daftar list semua all riwayat history orders")
LIST_LOOK = wordset("lihat show view see tampilkan")
POSSESSIVE = wordset("saya my mine kami our")
# Every one: "sudah transfer semua"; the first words are never one bill's ("semuanya" may be
# all of one bill; "keduanya" is read as "kedua", the second).
SEVERAL = wordset("sekaligus both")
EVERY = SEVERAL | wordset("semua semuanya all")
BELONGS = wordset("my our")  # before what is theirs: "my bag"
# Words that, said with "order"/"pesan" right after them, make it a purchase, not an order.
WANT = wordset("mau ingin pengen pingin mo mw want wanna to can cara bisa boleh like format")
# Ways of taking a product: "can I get 2 tote bags", "I'll take the black tee", "saya ambil 2".
TAKE = wordset("get take ambil")
TAKER = wordset("i ill will saya")
ASKS_WHEN_WHERE = wordset("kapan when where dimana mana how gimana bagaimana")  # not taking
# A wish right before a number: "mau 2 kaos hitam", "I'd like 2 tote bags", "I need 3 tees".
WISH = wordset("mau ingin pengen pingin mo mw want wanna like need butuh")

STOCK_STRONG = wordset("stok restok tersedia available availability avail sedia")
STOCK_STRONG_PHRASES: tuple[str, ...] = ("sold out", "out of stok")
STOCK_WEAK = wordset("""
    ready jual jualan sell sells selling habis kosong beli cari nyari mencari looking kabari
    kabarin notify
""")
STOCK_WEAK_PHRASES: tuple[str, ...] = (
    "you have", "you got", "have any", "got any", "you sell", "still have", "is there",
    "are there", "any left", "masih ada",
)  # fmt: skip
# The shop's product nouns: a message naming one is a product question when nothing else fits.
PRODUCTS = wordset("""
    kaos tshirt t-shirt tee tees shirt shirts kemeja batik tas bag bags tote totebag baju hoodie
    jaket jacket celana pants dress topi hat sarung kain kanvas canvas polo blouse
""")
NEGATION = wordset("tidak belum sudah not no yet still already")
# Whether an order is done yet: with "sudah", "belum" or "kapan" these ask about the order.
PROGRESS = wordset("""
    jadi selesai beres kelar rampung dibuat dijahit dijait dikerjakan diproduksi produksi proses
    progress progres finished done made tahap stage
""")
ASKS_IF_DONE = wordset("sudah belum kapan bagaimana yet already when how")
TRACKING = wordset("resi awb tracking lacak track kurir courier ekspedisi")
# Asking after the parcel itself ("paket saya sampai mana") is asking what the courier says.
PARCEL = wordset("paket kiriman pengiriman package packages parcel shipment")
# Asking for a person. "admin" and "min" alone are how people address the shop ("min, ada stok
# kaos?"), so they count only with a word that asks to talk to them.
CANCEL = wordset("cancel batal batalin batalkan dibatalkan membatalkan")
PERSON = CANCEL | wordset("""
    manusia operator komplain complain complaint keluhan kecewa human agent cs
    customerservice
""")  # with CANCEL: only a person cancels an order for a customer
PERSON_PHRASES: tuple[str, ...] = (
    "sama admin", "dengan admin", "ke admin", "hubungi admin", "panggil admin", "chat admin",
    "minta admin", "admin saja", "adminnya mana", "admin asli", "orang asli", "bukan bot",
    "sama orang", "dengan orang", "bicara sama", "bicara dengan", "ngomong sama",
    "ngobrol sama", "telepon admin", "telpon admin", "customer service", "real person",
    "talk to", "speak to", "speak with", "talk with", "a person", "help me", "not a bot",
    "barangnya rusak", "barang rusak", "salah kirim", "kurang barang",
    # What only a person may decide for a customer: money back, a cancellation, another address.
    "kembalikan uang", "uang kembali", "balikin uang", "minta refund", "mau refund",
    "pengembalian dana", "money back", "want a refund", "batalkan pesanan", "batal pesanan",
    "mau batal", "cancel my order", "ganti alamat", "ubah alamat", "change my address",
    "alamat salah", "salah alamat", "change the address", "wrong address", "ganti ukuran",
    "ubah ukuran", "change the size", "ganti warna", "ubah warna", "tukar warna",
    "change the color", "change the colour", "tambah ke pesanan", "tambahkan ke pesanan",
    "lagi ke pesanan", "ubah pesanan", "ganti pesanan", "add to my order", "change my order",
    # A photo only a person can take: of the work in progress, of the real thing.
    "minta foto", "minta fotonya", "foto progres", "foto progress", "foto aslinya", "foto asli",
    "foto real", "progress photo", "real photo", "real picture", "send a photo",
    "send me a photo", "send a picture", "send me a picture", "real pict", "real pic",
    "ada video", "minta video", "minta videonya", "video produk", "video aslinya", "video asli",
    "any video", "send a video", "send me a video",
    # What went wrong on the way, which only a person can sort out with the courier.
    "alamat tidak ditemukan", "alamatnya tidak ditemukan", "tidak ketemu alamat",
    "alamat tidak ketemu", "kurir bilang", "kurirnya bilang", "paket hilang", "paketnya hilang",
    "barang hilang", "barangnya hilang", "paket nyasar", "paketnya nyasar", "gagal kirim",
    "gagal antar", "courier said", "package lost", "parcel lost", "lost my package",
    "returned to sender",
    # Business that is not an order: a partnership, an endorsement.
    "kerja sama", "kerjasama", "kolaborasi", "endorse", "endorsement", "partnership",
    "collaboration", "sponsor",
)  # fmt: skip
# Advice on what to buy, with no product named, is a seller's talk: "yang paling laris apa?",
# "rekomendasi buat kondangan dong" ("rekomendasi kemeja yang rapi" lists the shirts).
ADVICE: tuple[str, ...] = (
    "paling laris", "terlaris", "paling banyak dibeli", "best seller", "bestseller",
    "rekomendasi", "rekomen", "recommend", "recommendation", "what do you suggest",
)  # fmt: skip
# Adding to an order placed, with what between: "mau tambah 1 tote ke pesanan INV-1001",
# "can I add a tote to my order?". Only a person changes an order.
ADDS = wordset("tambah tambahkan nambah menambah ditambah add")
TO_AN_ORDER: tuple[str, ...] = (
    "ke pesanan", "di pesanan", "dalam pesanan", "to my order", "to the order", "to order",
)  # fmt: skip
# Asking the shop to do something to an order, which only a person can, in the customer's
# own words and word order: another address, size or colour ("alamat pengiriman saya mau
# ganti", "ukurannya diganti L ya"), a detail that is wrong ("nomor hp penerima salah"),
# haste ("tolong dipercepat ya"), somewhere else to send it ("kirim ke alamat kantor aja").
# ("Tukar" is not among them: "bisa tukar ukuran?" asks the shop's rule on exchanges.)
CHANGE = wordset("""
    ganti diganti ubah diubah rubah dirubah change switch edit salah keliru wrong koreksi revisi
""")
DETAILS = wordset("alamat address ukuran size warna color colour penerima recipient")
HURRY = wordset("""
    cepetin cepatin cepatkan percepat dipercepat secepatnya buruan hurry rush faster expedite
    quickly asap urgent urgently
""")
SEND = wordset("kirim dikirim kirimkan kirimin antar diantar anter dianter send ship deliver")
# Something wrong with what came, said of it ("kaosnya kekecilan", "it arrived torn"), where
# asked it is the shop's rule on returns ("bisa retur kalau kekecilan?").
WRONG_WITH_IT: tuple[str, ...] = (
    "kekecilan", "kebesaran", "tidak muat", "tidak pas", "too small", "too big", "too tight",
    "does not fit", "not fit", "sobek", "robek", "cacat", "bolong", "luntur", "torn", "ripped",
    "broken", "damaged", "defective", "stained",
)  # fmt: skip
MAY_I = wordset("kalau kalo klo jika if bisa boleh can could apakah")
TOWARDS = wordset("ke to")
ASKS_FOR = wordset("tolong mohon please jangan segera")
ONCE = wordset("kalau kalo klo jika begitu once when")
PLACES = wordset("""
    alamat address kantor office rumah home house jalan jl jln street gang gg komplek kompleks
    perumahan apartemen kos kost kosan
""")
# Saying the order came ("paketnya udah sampai kak", "it arrived today, thanks").
ARRIVED_PHRASES: tuple[str, ...] = (
    "sudah sampai", "sudah datang", "sudah diterima", "sudah terima", "sudah saya terima",
    "barang sampai", "paket sampai", "has arrived", "have arrived", "it arrived", "arrived today",
    "got it", "received it", "have received", "i received", "got my order", "got the package",
    "already received", "already arrived", "arrived safely", "received safely", "received thanks",
    "package received", "parcel received", "order received", "got the parcel", "got my package",
)  # fmt: skip
NOT_YET = wordset("belum tidak not no yet never")
# The customer says the money went: a transfer proof without a photo, or announcing one.
PAID_PHRASES: tuple[str, ...] = (
    "sudah transfer", "sudah bayar", "sudah dibayar", "sudah saya transfer", "sudah saya bayar",
    "transfer sudah", "sudah lunas", "sudah kirim bukti", "ini bukti transfer", "bukti transfer",
    "bukti tf", "already paid", "i have paid", "i paid", "payment done", "have transferred",
    "just transferred", "i transferred", "paid already",
)  # fmt: skip
# Around a payment phrase, words that make it a question: "sudah dibayar belum?", "apakah
# sudah lunas?".
# Asking whether the money came ("transferan saya sudah masuk belum?", "has my payment been
# received?"): the order's payment, not how to pay ("bayar masuk ke rekening apa?").
MONEY = wordset("transfer transferan bayar bayaran pembayaran payment uang dana dp pelunasan")
CAME_IN = wordset("masuk diterima received confirmed dikonfirmasi terkonfirmasi")
ASKS_IF = wordset("sudah belum apakah kah has have did yet")
ASKS_WHICH = wordset("apa mana berapa where what how")
PAID_ASKED_AFTER = wordset("belum tidak atau kah")
PAID_ASKED_BEFORE = wordset("apakah apa is has was")


# Pushes again after a STOP: "oke lanjut kabari lagi", "start again".
RESUME = wordset("lanjut lanjutkan aktifkan nyalakan resume subscribe")
RESUME_PHRASES: tuple[str, ...] = (
    "kabari lagi", "kabarin lagi", "mulai lagi", "aktif lagi", "start again", "turn on",
    "notifikasi lagi", "kirim lagi kabar", "keep me posted", "notify me again",
)  # fmt: skip
SIZE_LABELS = wordset(
    "ukuran size uk warna color colour model tipe type jenis varian variant motif"
)
# Asking which sizes or colours there are: "ukuran apa aja?", "ada warna lain?", "other sizes?"
VARIANTS = SIZE_LABELS | wordset("sizes colors colours models types lain other others")
QUANTITY_UNITS = wordset("pcs pc biji buah lusin pieces piece dozen lembar")
# Who or what an order is for, after the product: "buat teman", "untuk kado", "for my wife".
FOR_WHOM = wordset("buat untuk bwt for")
# Asking to be told when a product is back: "kabari kalau kaos putih L ready", "let me know".
TELL_WHEN_BACK = wordset("kabari kabarin kabarkan dikabari dikabarin infoin infokan notify")
BACK_WORDS = wordset("ready habis kosong ada back available")  # what would be back
TELL_WHEN_BACK_PHRASES: tuple[str, ...] = (
    "kasih tau",
    "kasih tahu",
    "let me know",
    "tell me when",
)
QUERY_NOISE = (
    QUANTITY_UNITS
    | TELL_WHEN_BACK
    | PRAISE  # "kemeja yang rapi", "kaos yang bagus": what is wanted of it, not its name
    | wordset("rekomendasi rekomen laris terlaris paling recommend recommendation bestseller")
    | wordset("""
    ada punya have got any some there left out sold harga price much many cek check lihat
    bisa boleh beli buy purchase like want wanna need butuh kirim pesanan orders
    let know tell when back kasih tau tahu reseller grosir wholesale lain other others colors
    colours sizes one ones lama banget nunggu menunggu tunggu ditunggu format tinggal sisa
    remaining jangan lupa terus selalu pembeli pembelinya konsumen konsumennya buyer
""")
)
REMOVE_FROM_QUERY = (
    FILLER | ACK | QUESTION | GREET | THANKS | HELP | NEGATION | SIZE_LABELS
    | STOCK_STRONG | STOCK_WEAK | QUERY_NOISE | STATUS | PROGRESS | TRACKING | RESUME
)  # fmt: skip
# Besides those, words of an order question that name no product.
NOT_ABOUT = (
    ORDER_NOUNS
    | MONEY
    | wordset("sampai datang terima diterima jadinya tahap stage kabar update news dibayar")
)
LEADING_NOISE = GREET | TIME_OF_DAY | FILLER | ACK | THANKS
VOCAB = (
    FILLER | ACK | QUESTION | GREET | TIME_OF_DAY | THANKS | HELP | MENU | STOP
    | MESSAGE_WORDS | ORDER_NOUNS | STATUS | LIST | LIST_LOOK | STOCK_STRONG | STOCK_WEAK
    | PRODUCTS | NEGATION | SIZE_LABELS | QUERY_NOISE | PROGRESS | TRACKING | RESUME
    | PERSON
    | frozenset(SPELLING)
    | frozenset(w for words in SPELLING.values() for w in words)
)  # fmt: skip
