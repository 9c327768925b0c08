start-greeting = Привет, { $name }! Я создаю картинки, видео, музыку и озвучку с помощью лучших AI-моделей. Выберите, с чего начать:
menu-title = Главное меню. Что создадим?
btn-free = 🆓 Бесплатно
btn-balance = 💰 Баланс
btn-topup = 💳 Пополнить
btn-history = 🗂 Мои генерации
btn-referral = 🎁 Пригласить друга
btn-help = ❓ Помощь
btn-language = 🌐 Язык / Language
btn-menu = 🏠 Главное меню
btn-back = ⬅️ Назад
btn-cancel = ✖️ Отмена
btn-prev = ◀️ Назад
btn-next = Дальше ▶️
btn-generate = 🚀 Сгенерировать
btn-start-wizard = ✨ Создать
btn-params = ⚙️ Параметры
btn-done = ✅ Готово
btn-to-confirm = ➡️ К подтверждению
btn-yes = Да
btn-no = Нет
section-title = <b>{ $title }</b>. Выберите модель{ $pages ->
    [1] {""}
   *[other] {" "}(страница { $page } из { $pages })
}:
price-from = от { $price }
price-range = { $from } – { $to }
per-second = за секунду
per-minute = за минуту
per-1000_chars = за 1000 символов
per-megapixel = за мегапиксель
free-badge = 🆓
new-badge = 🆕
price-free = бесплатно
card-sends = Вы отправляете: { $what }
card-gets = Вы получаете: { $what }
card-price = Цена: { $price }
card-free = есть бесплатный вариант
card-free-then-paid = { $n } в день бесплатно, дальше по этой цене
card-price-free-only = Цена: бесплатно, { $n } в день (только бесплатно: когда закончатся, новые появятся в полночь)
search-found = Нашлось моделей по запросу «{ $text }»: { $n }
search-more = Здесь лучшие { $shown }: допишите название, чтобы найти остальные.
search-none = Не нашёл модель «{ $text }». Напишите название модели (Kling, Veo, Nano Banana…) или выберите в меню.
card-time = Обычно готово за { $time }
media-image = фото
media-video = видео
media-audio = аудио
media-text = текст
media-link = ссылку
output-image = изображение
output-video = видео
output-audio = аудио
output-text = текст
time-seconds = { $n } сек
time-minutes = { $n } мин
step-header = <b>{ $model }</b> · шаг { $n } из { $total }
step-media = Отправьте { $media ->
    [image] фото (можно файлом)
    [video] видео
   *[audio] аудио или голосовое сообщение
}{ $max ->
    [1] {""}
   *[other] {" "}(до { $max } шт.)
}. Максимальный размер — { $mb } МБ.
step-media-more = Получено: { $count } из { $max }. Отправьте ещё или нажмите «Готово».
step-prompt = Напишите описание одним сообщением (до { $max } символов).
step-dialogue = Напишите диалог одним сообщением, каждая реплика с новой строки: «Имя: текст» (до { $max } символов). Говорящих — до { $speakers }; голоса достаются им по порядку появления: { $voices }.
step-link = Пришлите ссылку на видео с { $host }.
step-option = Выберите: { $field }
step-bool = { $field }?
step-number = Введите число от { $min } до { $max }: { $field }
step-text = Напишите текст (до { $max } символов): { $field }
params-title = <b>Параметры</b> (необязательные). Нажмите, чтобы изменить:
param-default = по умолчанию
confirm-title = <b>Проверьте заказ</b>
confirm-model = Модель: { $model }
confirm-prompt = Описание: { $prompt }
confirm-params = Параметры: { $params }
confirm-media = Файлы: { $files }
confirm-output = Результат: { $output }
confirm-time = Время: около { $time }
confirm-price = Цена: { $price }
confirm-free = Цена: бесплатно (осталось сегодня: { $left })
confirm-free-bank = Цена: бесплатно, из генераций за приглашённых друзей (осталось: { $left })
confirm-balance = Баланс: { $before } → { $after }
confirm-unpriced = Для этих параметров нет цены: измените параметры.
outdated = Эта кнопка устарела. Вот свежее меню.
too-fast = Слишком часто. Подождите пару секунд.
error = Что-то пошло не так, мы уже разбираемся. Попробуйте ещё раз.
cancelled = Отменено.
unknown-input = Я понимаю команды, кнопки и названия моделей (напишите «Kling» или «Veo»). Откройте меню: /menu
expected-media = Сейчас нужно { $media ->
    [image] фото
    [video] видео
   *[audio] аудио
}.
expected-text = Сейчас нужен текст.
expected-button = Выберите вариант кнопкой ниже.
file-too-big = Файл слишком большой: { $size } МБ, можно до { $mb } МБ.
file-wrong-type = Этот файл не подходит: нужен { $media ->
    [image] снимок (JPEG, PNG или WebP)
    [video] видеофайл
   *[audio] аудиофайл или голосовое
}.
media-limit = Больше { $max } файлов здесь нельзя. Нажмите «Готово».
text-too-long = Слишком длинно: { $length } символов, можно до { $max }.
text-too-short = Слишком коротко: нужно хотя бы { $min } символа.
dialogue-empty = Одни имена без реплик: напишите после имени, что говорит каждый, «Аня: Привет!».
dialogue-too-many-speakers = В диалоге { $n } говорящих, а голосов только { $max }. Оставьте до { $max } имён.
number-invalid = Нужно число от { $min } до { $max }.
link-invalid = Нужна ссылка вида https://{ $host }/…
model-gone = Эта модель сейчас недоступна. Выберите другую.
balance-title = 💰 <b>Баланс</b>: { $balance }
balance-free = Бесплатных генераций сегодня: { $left } из { $limit }.
topup-title = 💳 <b>Пополнение</b>
history-title = 🗂 <b>Мои генерации</b>
history-empty = Пока пусто: ваши результаты будут здесь.
help-title = ❓ <b>Как это работает</b>
help-body = 1. Выберите раздел и модель.
    2. Отправьте то, что просит бот: описание, фото, видео или аудио.
    3. Проверьте цену и нажмите «Сгенерировать» — результат придёт в этот чат.

    Цены указаны на карточке каждой модели. Деньги списываются только за успешный результат.
    Каждый день доступно { $limit } бесплатных генераций на моделях с пометкой 🆓.
    Поддержка: { $support }
language-title = 🌐 Выберите язык / Choose your language
language-set = Язык: русский
referral-title = 🎁 <b>Пригласите друга</b>
referral-body = Ваша ссылка: { $link }
    Когда друг запустит бота по ней, вы оба получите бесплатные генерации.
terms-title = 📄 <b>Условия</b>
terms-body = Оплачивая генерации, вы соглашаетесь не создавать незаконный контент. Пополнения не сгорают. Если генерация не удалась, деньги возвращаются на баланс автоматически.
support-title = 🆘 <b>Поддержка платежей</b>
support-body = Вопросы об оплате: { $support }. Укажите, пожалуйста, дату и сумму платежа.
cmd-start = Перезапустить бота
cmd-menu = Главное меню
cmd-balance = Баланс
cmd-topup = Пополнить баланс
cmd-history = Мои генерации
cmd-help = Помощь
cmd-language = Язык
cmd-cancel = Отменить текущее действие
cmd-paysupport = Поддержка платежей
cmd-terms = Условия
field-aspect_ratio = Соотношение сторон
field-aspectRatio = Соотношение сторон
field-resolution = Разрешение
field-quality = Качество
field-duration = Длительность
field-size = Размер
field-n_frames = Длительность
field-mode = Режим
field-voice = Голос
field-style = Стиль
field-rendering_speed = Скорость
field-image_size = Размер изображения
field-output_format = Формат
field-outputFormat = Формат
field-upscale_factor = Увеличение
field-sound = Звук
field-instrumental = Без вокала
field-negative_prompt = Чего избегать
field-prompt = Описание
field-text = Текст

confirm-free-used = Бесплатные генерации на сегодня закончились, эта — платная.
confirm-free-none = Бесплатные генерации на сегодня закончились: новые появятся в полночь (или по приглашениям друзей).
btn-cancel-job = ✖️ Отменить генерацию
btn-retry = 🔁 Попробовать снова
btn-back-to-order = ⬅️ К заказу
btn-show-result = 👁 Показать результат
btn-repeat = 🔁 Повторить
btn-change = ⚙️ Изменить параметры
btn-new = ✨ Новая генерация
job-blocked = Генерации для вашего аккаунта отключены. Напишите в поддержку: /paysupport
job-too-many = У вас уже идут генерации. Дождитесь результата, чтобы начать новую.
job-invalid-params = Эти параметры модель не примет: измените их и попробуйте снова.
job-no-price = Для этих параметров нет цены: измените параметры.
job-free-exhausted = Бесплатные генерации на сегодня закончились. Новые появятся через { $hours } ч { $minutes } мин. Деньги не списаны.
job-exists = Эта генерация уже запущена.
job-not-running = Эта генерация уже завершена.
job-canceled = Генерация отменена.
job-queued = ⏳ Отправляю задачу…
job-generating = 🎨 Генерирую… прошло { $elapsed }
job-done = ✅ Готово за { $elapsed }
job-timed-out = ⌛ Модель не успела за отведённое время.
job-not-charged = Деньги не списаны.
job-input-failed = Не удалось получить ваш файл из Telegram. Отправьте его ещё раз.
job-shortfall = Не хватает { $shortfall } для этой генерации (доступно: { $balance }). Пополните баланс и вернитесь к заказу.
job-resumed = Бот перезапускался. Результат этой генерации — в «Моих генерациях»:
job-undeliverable = Не удалось доставить результат. Деньги вернулись на баланс.
history-page = Страница { $page } из { $pages }. Нажмите на генерацию, чтобы открыть её.
history-gone = Эта запись больше не хранится.
history-charged = Списано: { $price }
history-free = бесплатно
kie-error-params = ❌ Модель отклонила параметры.
kie-error-generation = ❌ Модель не смогла создать результат.
kie-error-busy = ❌ Сервис генерации сейчас перегружен.
kie-error-service = ❌ Сервис генерации временно недоступен, мы уже разбираемся.
job-delivery-failed = Не удалось отправить результат целиком. Он сохранён в «Моих генерациях»:
job-result-late = Ваша генерация готова. Результат — в «Моих генерациях»:
order-not-placed = Заказ не оформлен, деньги не списаны. Его можно оформить заново.
topup-stars = Баланс: { $balance }. Пополните его звёздами Telegram:
btn-stars-package = ⭐ { $stars } → { $price }
invoice-title = Пополнение баланса
invoice-description = { $price } на баланс для генераций. Деньги не сгорают.
invoice-label = Пополнение на { $price }
topped-up = ✅ Баланс пополнен на { $amount }. Доступно: { $balance }.
payment-unmatched = Платёж не удалось сопоставить со счётом. Напишите в /paysupport — мы вернём звёзды.
payment-refused-unknown-invoice = Этот счёт не найден. Откройте «Пополнить» ещё раз.
payment-refused-already-paid = Этот счёт уже оплачен.
payment-refused-amount-mismatch = Сумма не совпадает со счётом. Откройте «Пополнить» ещё раз.
payment-refused-blocked = Оплата для вашего аккаунта недоступна. Напишите в /paysupport.
payment-refused-unavailable = Платежи временно недоступны. Попробуйте через минуту.
btn-pay-stars = Оплатить ⭐ { $stars }
referral-stats = Приглашено друзей: { $invited }. Получено бесплатных генераций: { $earned }.
welcome-gift = 🎁 Подарок новичку: { $amount } на баланс!
referral-joined = 🎉 По вашей ссылке пришёл друг: +{ $n } бесплатных генераций.
referral-welcome = 🎁 Вы пришли по приглашению: +{ $n } бесплатных генераций.
admin-help = Команды администратора:
    /stats — статистика
    /user &lt;id или @имя&gt; — пользователь
    /credit &lt;id&gt; &lt;рубли&gt; &lt;причина&gt; — начислить
    /debit &lt;id&gt; &lt;рубли&gt; &lt;причина&gt; — списать
    /block &lt;id&gt; [причина] — запретить генерации
    /unblock &lt;id&gt; — разрешить
    /refund stars|yookassa &lt;id платежа&gt; [причина] — вернуть платёж
    /hide &lt;модель&gt; [причина] — скрыть модель
    /show &lt;модель&gt; — показать снова
    /broadcast &lt;текст&gt; — рассылка всем пользователям
admin-done = Готово. Пользователь { $user }: баланс { $balance }, заблокирован: { $blocked }.
admin-refused = Не выполнено: { $code }.
btn-card-package = 💳 { $price } картой
btn-card-amount = 💳 Другая сумма
btn-card-pay = Оплатить { $price }
btn-card-check = 🔄 Проверить оплату
yoo-enter-amount = Напишите сумму пополнения в рублях: от 50 до 50 000.
yoo-amount-invalid = Нужна сумма от 50 до 50 000 ₽, например: 250
yoo-ready = Счёт на { $price } готов. Оплатите его на странице ЮKassa — баланс пополнится сам.
yoo-checking = Проверяю…
yoo-pending = Оплата ещё не поступила. Если вы уже оплатили, проверьте через минуту.
yoo-canceled = Платёж отменён. Деньги не списаны.
yoo-failed = Не удалось создать платёж. Попробуйте ещё раз чуть позже.
yoo-creating = Счёт на эту сумму уже создаётся; он появится здесь через минуту.
yoo-delayed = Платёжная система не ответила вовремя. Я спрошу ещё раз и пришлю счёт сюда в течение нескольких минут; нажимать ещё раз не нужно.
yoo-unpaid = У вас есть неоплаченные счета по карте. Оплатите один из них или дождитесь, пока он истечёт (счёт действует сутки), и попробуйте снова.
refunded = Возврат: { $amount } списано с баланса и возвращено на ваш способ оплаты.
admin-refund-done = Возврат { $payment } выполнен: { $amount }.
admin-refund-refused = Возврат { $payment } не выполнен: { $code }.
admin-refund-checking = Возврат { $payment }: платёжная система не дала ясного ответа. Возврат проверяется; о результате сообщу.
admin-refund-under-way = Возврат { $payment } уже выполняется или проверяется; о результате сообщу.
admin-refund-checked-done = Возврат { $payment } проверен в платёжной системе: выполнен, { $amount }.
admin-refund-checked-refused = Возврат { $payment } проверен в платёжной системе: не выполнен ({ $code }); сумма вернулась на баланс.
stats-title = Статистика
stats-users = Пользователи: { $users } (сегодня активны { $today }, за 7 дней { $week }, заблокированы { $blocked })
stats-generations = Генерации: { $jobs }
stats-top-models = Популярные модели:
stats-revenue = Выручка: { $revenue }
stats-free-today = Бесплатных генераций сегодня: { $n }
stats-kie-credits = Кредиты KIE: { $credits }
stats-none = нет
stats-unavailable = недоступно
stats-reconciliation = Сверка журнала с платежами
stats-provider-stars = Telegram Stars:
stats-provider-yookassa = ЮKassa:
stats-credits = Оплачено: { $paid } ({ $paidSum }); зачислено по журналу: { $credited } ({ $creditedSum }); разница { $difference }
stats-refunds = Возвратов выполнено: { $done } ({ $doneSum }); чистые списания возвратов по журналу: { $debited } ({ $debitedSum }); разница { $difference }
stats-refunds-open = Возвратов в работе: { $underWay }; с неизвестным исходом: { $unknown }
stats-paid-not-credited = Оплачены, но не зачислены ({ $count }): { $ids }
stats-credited-not-paid = Зачислены без записи об оплате ({ $count }): { $ids }
stats-done-not-debited = Возвращены, но списания в журнале нет или оно другое ({ $count }): { $ids }
stats-debited-not-done = Списаны за возврат, который не выполнен и не в работе ({ $count }): { $ids }
stats-more = ещё { $n }
stats-all-match = Все платежи и возвраты сходятся с журналом.
stats-margin-today = Маржа за сегодня
stats-margin-week = Маржа за 7 дней
stats-margin-total = Всего: генераций { $generations }, выручка { $revenue }, KIE { $credits } кр. = { $cost }, маржа { $margin } ({ $percent })
stats-margin-model = { $model }: { $generations } ген., { $revenue }, { $credits } кр. = { $cost }, маржа { $margin } ({ $percent })
stats-margin-unknown = Отменены или не дождались ответа, когда задача уже была у KIE (KIE мог их списать; выше не учтены): { $count }, { $credits } кр.
kie-balance-low = ⚠️ На балансе KIE мало кредитов: осталось { $balance }, меньше чем на { $days } дн. при нынешнем расходе ({ $daily } кр. в день за последние 7 дней; порог { $threshold }). Пополните счёт на kie.ai, иначе генерации начнут завершаться ошибкой.
