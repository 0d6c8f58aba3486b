<?php
/*
 * posthook webhook receiver: verify the signature through the JWKS, dedupe
 * on uuid, answer 200 at once.
 *
 *     php receiver.php JWKS_URL_OR_FILE PORT [HEADER_PREFIX]
 *
 * Runs itself under PHP's built-in server on 127.0.0.1:PORT.  PHP keeps no
 * memory between requests, so the JWKS cache and the uuids seen live in a
 * directory (POSTHOOK_STATE_DIR, default a temporary one).  Needs the
 * openssl extension.  HEADER_PREFIX is signature_header_prefix of
 * posthook.conf (default X-Posthook).
 */

const REFETCH_INTERVAL = 1;	/* at most one JWKS fetch a second */

if (PHP_SAPI === 'cli') {
	if ($argc < 3) {
		fwrite(STDERR, "usage: php receiver.php JWKS_URL_OR_FILE PORT [HEADER_PREFIX]\n");
		exit(2);
	}
	$state = getenv('POSTHOOK_STATE_DIR') ?: sys_get_temp_dir() . '/posthook-receiver-' . $argv[2];
	@mkdir($state . '/seen', 0700, true);
	$env = getenv();
	$env['POSTHOOK_JWKS'] = $argv[1];
	$env['POSTHOOK_PREFIX'] = $argv[3] ?? 'X-Posthook';
	$env['POSTHOOK_STATE_DIR'] = $state;
	echo "listening on 127.0.0.1:{$argv[2]}\n";
	pcntl_exec(PHP_BINARY, ['-S', "127.0.0.1:{$argv[2]}", __FILE__], $env);
	exit(1);
}

$state = getenv('POSTHOOK_STATE_DIR');

function b64url_decode(string $s): string
{
	return base64_decode(strtr($s, '-_', '+/') . str_repeat('=', (4 - strlen($s) % 4) % 4));
}

/* der_int - a DER INTEGER of unsigned big-endian bytes */
function der_int(string $bytes): string
{
	$bytes = ltrim($bytes, "\0");
	if ($bytes === '' || ord($bytes[0]) & 0x80)
		$bytes = "\0" . $bytes;
	return "\x02" . der_len(strlen($bytes)) . $bytes;
}

function der_len(int $n): string
{
	if ($n < 0x80)
		return chr($n);
	$b = ltrim(pack('N', $n), "\0");
	return chr(0x80 | strlen($b)) . $b;
}

/* jwk_pem - the JWK's key as a PEM SubjectPublicKeyInfo for openssl_verify */
function jwk_pem(array $jwk): string
{
	$rsa = der_int(b64url_decode($jwk['n'])) . der_int(b64url_decode($jwk['e']));
	$rsa = "\x30" . der_len(strlen($rsa)) . $rsa;
	$bits = "\x03" . der_len(strlen($rsa) + 1) . "\0" . $rsa;
	$alg = "\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00";
	$spki = "\x30" . der_len(strlen($alg . $bits)) . $alg . $bits;
	return "-----BEGIN PUBLIC KEY-----\n" . chunk_split(base64_encode($spki), 64)
		. "-----END PUBLIC KEY-----\n";
}

/* key_for - the cached key; an unknown kid fetches the JWKS again */
function key_for(string $kid, string $state): ?string
{
	$cache = "$state/jwks.json";
	$keys = json_decode(@file_get_contents($cache) ?: '{}', true)['keys'] ?? [];
	if (!isset($keys[$kid]) && time() - (@filemtime($cache) ?: 0) >= REFETCH_INTERVAL) {
		$doc = json_decode(@file_get_contents(getenv('POSTHOOK_JWKS')) ?: 'null', true);
		if (is_array($doc) && is_array($doc['keys'] ?? null)) {
			$keys = [];
			foreach ($doc['keys'] as $k)
				if (($k['kty'] ?? '') === 'RSA')
					$keys[$k['kid']] = jwk_pem($k);
			file_put_contents("$cache.tmp", json_encode(['keys' => $keys]));
			rename("$cache.tmp", $cache);
		} else {
			error_log('jwks fetch failed');
			touch($cache);
		}
	}
	return $keys[$kid] ?? null;
}

function reply(int $code, string $text): void
{
	http_response_code($code);
	header('Content-Type: text/plain');
	echo "$text\n";
}

$prefix = 'HTTP_' . strtoupper(str_replace('-', '_', getenv('POSTHOOK_PREFIX')));
$body = file_get_contents('php://input');
$key = key_for($_SERVER[$prefix . '_SIGNATURE_KID'] ?? '', $state);
$sig = base64_decode($_SERVER[$prefix . '_SIGNATURE'] ?? '', true);
$event = json_decode($body, true);
if ($key === null || $sig === false || openssl_verify($body, $sig, $key, OPENSSL_ALGO_SHA256) !== 1
    || !is_array($event) || !isset($event['uuid'])) {
	reply(401, 'bad signature');
	return;
}
/* fopen 'x' creates the marker or fails: atomic across requests. */
$marker = @fopen("$state/seen/" . hash('sha256', (string) $event['uuid']), 'x');
if ($marker === false) {
	reply(200, 'duplicate');
	return;
}
fclose($marker);
reply(200, 'ok');
/* The application's real work goes here, after the answer is sent. */
if (function_exists('fastcgi_finish_request'))
	fastcgi_finish_request();
file_put_contents('php://stdout', "event {$event['uuid']} {$event['event']}\n");
