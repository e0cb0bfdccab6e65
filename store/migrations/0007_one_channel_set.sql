-- One set of channels everywhere (schemas.domain.Channel): support history may come from an API inbox too,
-- as live conversations already could.
ALTER TABLE support_threads_data DROP CONSTRAINT support_threads_data_channel_check;
ALTER TABLE support_threads_data ADD CONSTRAINT support_threads_data_channel_check
    CHECK (channel IN ('email', 'web_widget', 'whatsapp', 'facebook', 'telegram', 'sms', 'api'));
