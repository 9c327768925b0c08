start-greeting = Hi, { $name }! I make images, videos, music and speech with the best AI models. Where shall we start?
menu-title = Main menu. What shall we create?
btn-free = 🆓 Free
btn-balance = 💰 Balance
btn-topup = 💳 Top up
btn-history = 🗂 My generations
btn-referral = 🎁 Invite a friend
btn-help = ❓ Help
btn-language = 🌐 Язык / Language
btn-menu = 🏠 Main menu
btn-back = ⬅️ Back
btn-cancel = ✖️ Cancel
btn-prev = ◀️ Back
btn-next = Next ▶️
btn-generate = 🚀 Generate
btn-start-wizard = ✨ Create
btn-params = ⚙️ Parameters
btn-done = ✅ Done
btn-to-confirm = ➡️ To confirmation
btn-yes = Yes
btn-no = No
section-title = <b>{ $title }</b>. Choose a model{ $pages ->
    [1] {""}
   *[other] {" "}(page { $page } of { $pages })
}:
price-from = from { $price }
price-range = { $from } – { $to }
per-second = per second
per-minute = per minute
per-1000_chars = per 1000 characters
per-megapixel = per megapixel
free-badge = 🆓
new-badge = 🆕
price-free = free
card-sends = You send: { $what }
card-gets = You get: { $what }
card-price = Price: { $price }
card-free = has a free option
card-free-then-paid = { $n } free a day, then this price
card-price-free-only = Price: free, { $n } a day (free only: when they are used up, new ones arrive at midnight)
search-found = Models found for «{ $text }»: { $n }
search-more = These are the best { $shown }: type more of the name to find the others.
search-none = I found no model called «{ $text }». Type a model's name (Kling, Veo, Nano Banana…) or pick from the menu.
card-time = Usually ready in { $time }
media-image = a photo
media-video = a video
media-audio = audio
media-text = text
media-link = a link
output-image = an image
output-video = a video
output-audio = audio
output-text = text
time-seconds = { $n } s
time-minutes = { $n } min
step-header = <b>{ $model }</b> · step { $n } of { $total }
step-media = Send { $media ->
    [image] a photo (a file is fine)
    [video] a video
   *[audio] audio or a voice message
}{ $max ->
    [1] {""}
   *[other] {" "}(up to { $max })
}. Largest size: { $mb } MB.
step-media-more = Received { $count } of { $max }. Send more or press Done.
step-prompt = Write a description in one message (up to { $max } characters).
step-dialogue = Write the dialogue in one message, one line per turn: "Name: text" (up to { $max } characters). Up to { $speakers } speakers; they get the voices in the order they first speak: { $voices }.
step-link = Send the link to the video on { $host }.
step-option = Choose: { $field }
step-bool = { $field }?
step-number = Enter a number from { $min } to { $max }: { $field }
step-text = Write the text (up to { $max } characters): { $field }
params-title = <b>Parameters</b> (optional). Tap one to change it:
param-default = default
confirm-title = <b>Check your order</b>
confirm-model = Model: { $model }
confirm-prompt = Description: { $prompt }
confirm-params = Parameters: { $params }
confirm-media = Files: { $files }
confirm-output = You get: { $output }
confirm-time = Time: about { $time }
confirm-price = Price: { $price }
confirm-free = Price: free ({ $left } left today)
confirm-free-bank = Price: free, from the generations your friends brought you ({ $left } left)
confirm-balance = Balance: { $before } → { $after }
confirm-unpriced = These parameters have no price: please change them.
outdated = This button is outdated. Here is a fresh menu.
too-fast = Too fast. Please wait a couple of seconds.
error = Something went wrong and we are looking into it. Please try again.
cancelled = Cancelled.
unknown-input = I understand commands, buttons and model names (write “Kling” or “Veo”). Open the menu: /menu
expected-media = Now I need { $media ->
    [image] a photo
    [video] a video
   *[audio] audio
}.
expected-text = Now I need text.
expected-button = Please choose with a button below.
file-too-big = The file is too big: { $size } MB, the limit is { $mb } MB.
file-wrong-type = This file does not fit: I need { $media ->
    [image] a picture (JPEG, PNG or WebP)
    [video] a video file
   *[audio] an audio file or a voice message
}.
media-limit = No more than { $max } files here. Press Done.
text-too-long = Too long: { $length } characters, the limit is { $max }.
text-too-short = Too short: at least { $min } characters, please.
dialogue-empty = Only names and no lines: write what each speaker says after the name, "Anna: Hi!".
dialogue-too-many-speakers = The dialogue has { $n } speakers, and there are only { $max } voices. Keep it to { $max } names.
number-invalid = I need a number from { $min } to { $max }.
link-invalid = I need a link like https://{ $host }/…
model-gone = This model is not available now. Please choose another one.
balance-title = 💰 <b>Balance</b>: { $balance }
balance-free = Free generations today: { $left } of { $limit }.
topup-title = 💳 <b>Top up</b>
history-title = 🗂 <b>My generations</b>
history-empty = Nothing yet: your results will appear here.
help-title = ❓ <b>How it works</b>
help-body = 1. Pick a section and a model.
    2. Send what the bot asks for: a description, a photo, a video or audio.
    3. Check the price and press Generate: the result arrives in this chat.

    Every model card shows its price. You pay only for a successful result.
    Every day you get { $limit } free generations on models marked 🆓.
    Support: { $support }
language-title = 🌐 Выберите язык / Choose your language
language-set = Language: English
referral-title = 🎁 <b>Invite a friend</b>
referral-body = Your link: { $link }
    When a friend starts the bot with it, you both get free generations.
terms-title = 📄 <b>Terms</b>
terms-body = By paying for generations you agree not to create illegal content. Top-ups do not expire. If a generation fails, the money returns to your balance automatically.
support-title = 🆘 <b>Payment support</b>
support-body = Questions about payments: { $support }. Please include the date and amount of the payment.
cmd-start = Restart the bot
cmd-menu = Main menu
cmd-balance = Balance
cmd-topup = Top up
cmd-history = My generations
cmd-help = Help
cmd-language = Language
cmd-cancel = Cancel the current action
cmd-paysupport = Payment support
cmd-terms = Terms
field-aspect_ratio = Aspect ratio
field-aspectRatio = Aspect ratio
field-resolution = Resolution
field-quality = Quality
field-duration = Duration
field-size = Size
field-n_frames = Duration
field-mode = Mode
field-voice = Voice
field-style = Style
field-rendering_speed = Speed
field-image_size = Image size
field-output_format = Format
field-outputFormat = Format
field-upscale_factor = Upscale
field-sound = Sound
field-instrumental = Instrumental
field-negative_prompt = Avoid
field-prompt = Description
field-text = Text

confirm-free-used = Today's free generations are used up, so this one is paid.
confirm-free-none = Today's free generations are used up: new ones arrive at midnight (or with friends you invite).
btn-cancel-job = ✖️ Cancel generation
btn-retry = 🔁 Try again
btn-back-to-order = ⬅️ Back to the order
btn-show-result = 👁 Show result
btn-repeat = 🔁 Repeat
btn-change = ⚙️ Change parameters
btn-new = ✨ New generation
job-blocked = Generations are disabled for your account. Please contact support: /paysupport
job-too-many = You already have generations running. Wait for a result to start a new one.
job-invalid-params = The model will not accept these parameters: change them and try again.
job-no-price = There is no price for these parameters: change the parameters.
job-free-exhausted = Today's free generations are used up. New ones arrive in { $hours } h { $minutes } min. Nothing was charged.
job-exists = This generation is already running.
job-not-running = This generation has already finished.
job-canceled = Generation canceled.
job-queued = ⏳ Sending the task…
job-generating = 🎨 Generating… { $elapsed } so far
job-done = ✅ Done in { $elapsed }
job-timed-out = ⌛ The model did not finish in time.
job-not-charged = Nothing was charged.
job-input-failed = Could not get your file from Telegram. Please send it again.
job-shortfall = You need { $shortfall } more for this generation (available: { $balance }). Top up and come back to the order.
job-resumed = The bot restarted. The result of this generation is in your history:
job-undeliverable = The result could not be delivered. The money is back on your balance.
history-page = Page { $page } of { $pages }. Tap a generation to open it.
history-gone = This entry is no longer kept.
history-charged = Charged: { $price }
history-free = free
kie-error-params = ❌ The model rejected the parameters.
kie-error-generation = ❌ The model could not produce a result.
kie-error-busy = ❌ The generation service is overloaded right now.
kie-error-service = ❌ The generation service is temporarily unavailable; we are on it.
job-delivery-failed = The result could not be sent in full. It is kept in your history:
job-result-late = Your generation is ready. Its result is in your history:
order-not-placed = Your order was not placed, and nothing was charged. You can order it again.
topup-stars = Balance: { $balance }. Top it up with Telegram Stars:
btn-stars-package = ⭐ { $stars } → { $price }
invoice-title = Balance top-up
invoice-description = { $price } on your balance for generations. It never expires.
invoice-label = Top-up of { $price }
topped-up = ✅ Your balance is topped up by { $amount }. Available: { $balance }.
payment-unmatched = This payment does not match an invoice. Please write to /paysupport and we will return your Stars.
payment-refused-unknown-invoice = This invoice was not found. Open "Top up" again.
payment-refused-already-paid = This invoice is already paid.
payment-refused-amount-mismatch = The amount does not match the invoice. Open "Top up" again.
payment-refused-blocked = Payments are not available for your account. Please write to /paysupport.
payment-refused-unavailable = Payments are unavailable right now. Please try again in a minute.
btn-pay-stars = Pay ⭐ { $stars }
referral-stats = Friends invited: { $invited }. Free generations earned: { $earned }.
welcome-gift = 🎁 A welcome gift: { $amount } on your balance!
referral-joined = 🎉 A friend joined with your link: +{ $n } free generations.
referral-welcome = 🎁 You came by an invitation: +{ $n } free generations.
admin-help = Admin commands:
    /stats — statistics
    /user &lt;id or @username&gt; — a user
    /credit &lt;id&gt; &lt;rubles&gt; &lt;reason&gt; — credit
    /debit &lt;id&gt; &lt;rubles&gt; &lt;reason&gt; — debit
    /block &lt;id&gt; [reason] — stop generations
    /unblock &lt;id&gt; — allow them again
    /refund stars|yookassa &lt;payment id&gt; [reason] — refund a payment
    /hide &lt;model&gt; [reason] — hide a model
    /show &lt;model&gt; — show it again
    /broadcast &lt;text&gt; — send a message to every user
admin-done = Done. User { $user }: balance { $balance }, blocked: { $blocked }.
admin-refused = Not done: { $code }.
btn-card-package = 💳 { $price } by card
btn-card-amount = 💳 Another amount
btn-card-pay = Pay { $price }
btn-card-check = 🔄 Check payment
yoo-enter-amount = Type the top-up amount in rubles: from 50 to 50,000.
yoo-amount-invalid = The amount must be from 50 to 50,000 ₽, for example: 250
yoo-ready = Your bill for { $price } is ready. Pay it on the YooKassa page; your balance is topped up by itself.
yoo-checking = Checking…
yoo-pending = The payment has not arrived yet. If you have paid, check again in a minute.
yoo-canceled = The payment was canceled. Nothing was charged.
yoo-failed = The payment could not be created. Please try again a little later.
yoo-creating = Your bill for this amount is being made; it will appear here in a moment.
yoo-delayed = The payment service did not answer in time. I will ask it again and send your bill here within a few minutes; there is no need to press again.
yoo-unpaid = You have unpaid card bills. Pay one of them or wait until it expires (a bill lasts a day), then try again.
refunded = Refund: { $amount } was taken off your balance and returned to your payment method.
admin-refund-done = Refund of { $payment } done: { $amount }.
admin-refund-refused = Refund of { $payment } not done: { $code }.
admin-refund-checking = Refund of { $payment }: the provider gave no clear answer. It is being checked with the provider; you will be told how it ends.
admin-refund-under-way = Refund of { $payment } is already under way or being checked; you will be told how it ends.
admin-refund-checked-done = Refund of { $payment } checked with the provider: done, { $amount }.
admin-refund-checked-refused = Refund of { $payment } checked with the provider: not done ({ $code }); the amount went back to the balance.
stats-title = Statistics
stats-users = Users: { $users } (active today { $today }, 7 days { $week }, blocked { $blocked })
stats-generations = Generations: { $jobs }
stats-top-models = Top models:
stats-revenue = Revenue: { $revenue }
stats-free-today = Free generations used today: { $n }
stats-kie-credits = KIE credits: { $credits }
stats-none = none
stats-unavailable = unavailable
stats-reconciliation = Ledger against payment records
stats-provider-stars = Telegram Stars:
stats-provider-yookassa = YooKassa:
stats-credits = Paid: { $paid } ({ $paidSum }); credited in the ledger: { $credited } ({ $creditedSum }); difference { $difference }
stats-refunds = Refunds done: { $done } ({ $doneSum }); net refund debits in the ledger: { $debited } ({ $debitedSum }); difference { $difference }
stats-refunds-open = Refunds under way: { $underWay }; outcome unknown: { $unknown }
stats-paid-not-credited = Paid, never credited ({ $count }): { $ids }
stats-credited-not-paid = Credited without a paid payment record ({ $count }): { $ids }
stats-done-not-debited = Refunded, the ledger's debit missing or different ({ $count }): { $ids }
stats-debited-not-done = Debited for a refund that is not done or under way ({ $count }): { $ids }
stats-more = { $n } more
stats-all-match = Every payment and refund matches the ledger.
stats-margin-today = Margin today
stats-margin-week = Margin, last 7 days
stats-margin-total = Total: { $generations } generations, revenue { $revenue }, KIE { $credits } cr = { $cost }, margin { $margin } ({ $percent })
stats-margin-model = { $model }: { $generations } gen., { $revenue }, { $credits } cr = { $cost }, margin { $margin } ({ $percent })
stats-margin-unknown = Canceled or timed out once KIE had them (KIE may have charged; not above): { $count }, { $credits } cr
kie-balance-low = ⚠️ KIE balance is low: { $balance } credits left, less than { $days } days of recent spend ({ $daily } credits a day over the last 7 days; alert below { $threshold }). Top up the KIE account at kie.ai, or generations will start failing.
