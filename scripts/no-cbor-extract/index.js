// cbor-x loads this in a try/catch and uses its JavaScript decoder when it throws.
throw new Error('cbor-extract native acceleration is not installed');
